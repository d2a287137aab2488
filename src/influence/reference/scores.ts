// The score stage, in float64 (the oracle of the GPU scoring kernels), kept apart from the factors
// stage: damping, preconditioned query gradients (optionally at low rank), pairwise scores with
// their per-module and per-token decompositions, and self-influence.
//
//   damping λ (per module):  an absolute value, or by default 0.1 × mean(Λ) of that module
//   P_q (ekfac / kfac):      Q_S [(Q_Sᵀ G_q Q_A) ⊘ (Λ + λ)] Q_Aᵀ
//   P_q (diagonal):          G_q ⊘ (Λ + λ)
//   P_q (identity):          G_q
//   score(q, m)              = Σ_modules ⟨P_q, DW_m⟩   (positive = helpful; no minus, no 1/N)
//   perToken(q, m, t)        = Σ_modules s_tᵀ P_q a_t  (t = input position of m; Σ_t = score)
//   self(m)                  = Σ_modules ⟨(F + λ)⁻¹ DW_m, DW_m⟩   (never at low rank)
//
// G_q is the gradient of the query's measurement, its summed cross-entropy over labelled tokens;
// DW_m the gradient of training sequence m's summed loss. Query low rank k: per module, P_q is
// replaced by its best rank-k approximation where min(dOut, cols) > k.
import type { Gpt2Config } from "../../gpt2/config.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import type { Params64 } from "../../gpt2/reference/model.ts";
import { expandLowRank, type LowRankFactors, lowRankFactors } from "../svd.ts";
import type { InfluenceFactors, ModuleFactors, Strategy } from "./factors.ts";
import { dot, matmulNT, rotateFromEigenbasis, rotateIntoEigenbasis } from "./matrix.ts";
import {
  type InfluenceExample,
  type ReferenceModel,
  referenceModel,
  sequenceTaps,
  tapGradient,
} from "./taps.ts";

/** The heuristic's factor: λ = DEFAULT_DAMPING_FACTOR × mean(Λ) per module. */
export const DEFAULT_DAMPING_FACTOR = 0.1;

/** λ for one module: `damping` when a number, else 0.1 × mean(Λ); 0 for identity. */
export function moduleDamping(
  factors: ModuleFactors,
  strategy: Strategy,
  damping: number | null = null,
): number {
  if (strategy === "identity") return 0;
  if (damping !== null) {
    if (!Number.isFinite(damping) || damping < 0) {
      throw new RangeError(`damping ${damping} must be a finite number ≥ 0`);
    }
    return damping;
  }
  const lambda = factors.lambda;
  if (!lambda) throw new RangeError(`${factors.module.name}: the factors have no Λ`);
  let sum = 0;
  for (let i = 0; i < lambda.length; i++) sum += lambda[i];
  return DEFAULT_DAMPING_FACTOR * sum / lambda.length;
}

/** (F + λ)⁻¹·G for one module's gradient matrix G [dOut, cols]; returns a new array. */
export function precondition(
  factors: ModuleFactors,
  strategy: Strategy,
  g: Float64Array,
  lambdaDamping: number,
): Float64Array {
  const { dOut, cols, name } = factors.module;
  if (g.length !== dOut * cols) throw new RangeError(`${name}: gradient is not [${dOut}, ${cols}]`);
  if (strategy === "identity") return Float64Array.from(g);
  const lambda = factors.lambda;
  if (!lambda) throw new RangeError(`${name}: the factors have no Λ`);
  if (strategy === "diagonal") return g.map((v, i) => v / (lambda[i] + lambdaDamping));
  const rotated = rotateIntoEigenbasis(factors, g);
  for (let i = 0; i < rotated.length; i++) rotated[i] /= lambda[i] + lambdaDamping;
  return rotateFromEigenbasis(factors, rotated);
}

export interface PreconditionedQuery {
  /** The measurement (summed cross-entropy over the query's labelled tokens). */
  loss: number;
  /** Per module: P_q [dOut, cols] as scored (the rank-k approximation where truncated). */
  gradients: Float64Array[];
  /** Per module: the rank-k factors, P_q ≈ left·rightᵀ, where truncated; else null. */
  lowRank: (LowRankFactors | null)[];
}

export interface QueryOptions {
  factors: InfluenceFactors;
  /** f32 ParamSet or float64 parameters (then `config` is required). */
  params: ParamSet | Params64;
  config?: Gpt2Config;
  queries: readonly InfluenceExample[];
  /** Absolute damping, or null / absent for 0.1 × mean(Λ) per module. */
  damping?: number | null;
  /** Query low rank k (null / absent: full rank). */
  queryRank?: number | null;
}

/** Per module the damping the score stage uses. */
export function dampings(factors: InfluenceFactors, damping: number | null = null): number[] {
  return factors.modules.map((f) => moduleDamping(f, factors.strategy, damping));
}

function queryGradients(
  model: ReferenceModel,
  factors: InfluenceFactors,
  queries: readonly InfluenceExample[],
  lambdas: number[],
  queryRank: number | null,
): PreconditionedQuery[] {
  const modules = factors.modules.map((f) => f.module);
  if (queryRank !== null && (!Number.isInteger(queryRank) || queryRank < 1)) {
    throw new RangeError(`queryRank ${queryRank} must be a positive integer`);
  }
  return queries.map((query) => {
    const { loss, taps } = sequenceTaps(model, query, modules);
    const gradients: Float64Array[] = [];
    const lowRank: (LowRankFactors | null)[] = [];
    taps.forEach((tap, i) => {
      const f = factors.modules[i];
      const p = precondition(f, factors.strategy, tapGradient(tap), lambdas[i]);
      const { dOut, cols } = f.module;
      if (queryRank !== null && Math.min(dOut, cols) > queryRank) {
        const low = lowRankFactors(p, dOut, cols, queryRank);
        lowRank.push(low);
        gradients.push(expandLowRank(low));
      } else {
        lowRank.push(null);
        gradients.push(p);
      }
    });
    return { loss, gradients, lowRank };
  });
}

/** The queries' preconditioned measurement gradients, per module. */
export function preconditionedQueries(options: QueryOptions): PreconditionedQuery[] {
  const model = referenceModel(options.params, options.config);
  const lambdas = dampings(options.factors, options.damping ?? null);
  return queryGradients(
    model,
    options.factors,
    options.queries,
    lambdas,
    options.queryRank ?? null,
  );
}

export interface ScoreOptions extends QueryOptions {
  /** The training sequences to score against. */
  train: readonly InfluenceExample[];
  /** Also return the per-module terms. Default false. */
  perModule?: boolean;
  /** Also return the per-token scores. Default false. */
  perToken?: boolean;
  /** Also return the training sequences' self-influence. Default false. */
  selfScores?: boolean;
}

export interface InfluenceScores {
  /** Q queries × N training sequences. */
  queries: number;
  train: number;
  /** Tracked module names, in the order of the per-module arrays. */
  modules: string[];
  /** Per module the damping added to Λ (0 for identity). */
  damping: number[];
  /** [Q, N] row-major: scores[q·N + m]. */
  scores: Float64Array;
  /** Per module, [Q, N] row-major; they sum to `scores`. */
  perModule?: Float64Array[];
  /** perToken[q][m]: [T_m] scores per input position of training sequence m; Σ_t = score. */
  perToken?: Float64Array[][];
  /** [N]: ⟨(F + λ)⁻¹ DW_m, DW_m⟩ summed over modules. */
  selfScores?: Float64Array;
  /** The queries' measurements and preconditioned gradients. */
  preconditioned: PreconditionedQuery[];
}

/** Pairwise influence of every training sequence on every query. */
export function scoresReference(options: ScoreOptions): InfluenceScores {
  const { factors, train } = options;
  const model = referenceModel(options.params, options.config);
  const damping = dampings(factors, options.damping ?? null);
  const preconditioned = queryGradients(
    model,
    factors,
    options.queries,
    damping,
    options.queryRank ?? null,
  );
  const Q = preconditioned.length, N = train.length;
  const modules = factors.modules.map((f) => f.module);
  const scores = new Float64Array(Q * N);
  const perModule = options.perModule ? modules.map(() => new Float64Array(Q * N)) : undefined;
  const perToken: Float64Array[][] | undefined = options.perToken
    ? preconditioned.map(() => [])
    : undefined;
  const selfScores = options.selfScores ? new Float64Array(N) : undefined;
  train.forEach((example, m) => {
    const { T, taps } = sequenceTaps(model, example, modules);
    const tokenScores = perToken ? preconditioned.map(() => new Float64Array(T)) : undefined;
    taps.forEach((tap, i) => {
      const dw = tapGradient(tap);
      const { dOut, cols } = tap.module;
      preconditioned.forEach((query, q) => {
        const term = dot(query.gradients[i], dw);
        scores[q * N + m] += term;
        if (perModule) perModule[i][q * N + m] = term;
        if (tokenScores) {
          // s_tᵀ·P·a_t for every t: X = A·Pᵀ [T, dOut], then row-wise dots with S.
          const x = matmulNT(tap.a, query.gradients[i], T, cols, dOut);
          const out = tokenScores[q];
          for (let t = 0; t < T; t++) {
            let acc = 0;
            for (let o = 0; o < dOut; o++) acc += tap.s[t * dOut + o] * x[t * dOut + o];
            out[t] += acc;
          }
        }
      });
      if (selfScores) {
        selfScores[m] += dot(
          precondition(factors.modules[i], factors.strategy, dw, damping[i]),
          dw,
        );
      }
    });
    if (perToken && tokenScores) tokenScores.forEach((s, q) => perToken[q].push(s));
  });
  return {
    queries: Q,
    train: N,
    modules: modules.map((m) => m.name),
    damping,
    scores,
    perModule,
    perToken,
    selfScores,
    preconditioned,
  };
}
