// The factors stage, in float64 (the oracle of the GPU factor kernels): per tracked module the
// covariances, their eigendecompositions and the eigenvalue matrix Λ of the chosen strategy,
// fitted on the training sequences with the empirical Fisher (the sequences' own labels).
//
// Conventions (kronfluence's; see shared/design/MATH.md §4):
// - A = Σ a_t a_tᵀ and S = Σ s_t s_tᵀ over EVERY non-padding position of every sequence (prompt
//   positions and each sequence's last position included), both divided by that count of
//   positions, then symmetrised (C + Cᵀ)/2 before the float64 eigendecomposition.
// - ekfac: Λ = mean over SEQUENCES of (Q_Sᵀ·DW·Q_A)², DW = Σ_t s_t a_tᵀ (the per-sequence gradient
//   of the summed loss).
// - kfac: Λ = outer(λ_S, λ_A), negative eigenvalues not clamped.
// - diagonal: Λ = mean over sequences of DW² (elementwise, original basis); no covariances.
// - identity: nothing to fit.
import { eigh, type SymmetricEigen } from "../eigh.ts";
import { type ModuleSelection, type TrackedModule, trackedModules } from "../modules.ts";
import type { Gpt2Config } from "../../gpt2/config.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import type { Params64 } from "../../gpt2/reference/model.ts";
import {
  type InfluenceExample,
  type ModuleTap,
  type ReferenceModel,
  referenceModel,
  sequenceTaps,
  tapGradient,
} from "./taps.ts";
import { rotateIntoEigenbasis } from "./matrix.ts";

export type Strategy = "ekfac" | "kfac" | "diagonal" | "identity";

export interface ModuleFactors {
  module: TrackedModule;
  /** A, [cols, cols] row-major, symmetric (kfac / ekfac). */
  activationCovariance?: Float64Array;
  /** S, [dOut, dOut] row-major, symmetric (kfac / ekfac). */
  gradientCovariance?: Float64Array;
  /** eigh(A): values ascending [cols], vectors [cols, cols] one eigenvector per column (Q_A). */
  activationEigen?: SymmetricEigen;
  /** eigh(S): values ascending [dOut], vectors [dOut, dOut] one eigenvector per column (Q_S). */
  gradientEigen?: SymmetricEigen;
  /**
   * Λ, [dOut, cols] row-major: ekfac and kfac in the eigenbasis (row j ↔ eigenvector j of S,
   * column k ↔ eigenvector k of A, both in ascending eigenvalue order); diagonal in the original
   * gradient-matrix layout. Absent for identity.
   */
  lambda?: Float64Array;
}

export interface InfluenceFactors {
  strategy: Strategy;
  modules: ModuleFactors[];
  /** Non-padding positions the covariances were divided by (kfac / ekfac). */
  positions: number;
  /** Sequences Λ was averaged over (ekfac / diagonal). */
  sequences: number;
}

export interface FitFactorsOptions {
  /** f32 ParamSet or float64 parameters (then `config` is required). */
  params: ParamSet | Params64;
  config?: Gpt2Config;
  /** The training sequences. */
  examples: readonly InfluenceExample[];
  /** Tracked modules: a selection or an explicit list. Default "mlp". */
  modules?: ModuleSelection | readonly TrackedModule[];
  /** Default "ekfac". */
  strategy?: Strategy;
}

export function resolveModules(
  config: Gpt2Config,
  modules: ModuleSelection | readonly TrackedModule[] | undefined,
): TrackedModule[] {
  return typeof modules === "string" || modules === undefined
    ? trackedModules(config, modules ?? "mlp")
    : [...modules];
}

/** Σ_t x_t x_tᵀ accumulated into acc ([n, n], upper triangle only). */
function accumulateOuter(acc: Float64Array, x: Float64Array, T: number, n: number): void {
  for (let t = 0; t < T; t++) {
    const row = t * n;
    for (let i = 0; i < n; i++) {
      const xi = x[row + i];
      if (xi === 0) continue;
      const out = i * n;
      for (let j = i; j < n; j++) acc[out + j] += xi * x[row + j];
    }
  }
}

/** Upper-triangle accumulator / count → full symmetric matrix ((C + Cᵀ)/2 of the full sum). */
function symmetricMean(acc: Float64Array, n: number, count: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = acc[i * n + j] / count;
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

/** Covariance pass: A and S per module over every position of every sequence. */
export function fitCovariances(
  model: ReferenceModel,
  examples: readonly InfluenceExample[],
  modules: readonly TrackedModule[],
): { activation: Float64Array[]; gradient: Float64Array[]; positions: number } {
  const aSum = modules.map((m) => new Float64Array(m.cols * m.cols));
  const sSum = modules.map((m) => new Float64Array(m.dOut * m.dOut));
  let positions = 0;
  for (const example of examples) {
    const { T, taps } = sequenceTaps(model, example, modules);
    positions += T;
    taps.forEach((tap: ModuleTap, i) => {
      accumulateOuter(aSum[i], tap.a, T, tap.module.cols);
      accumulateOuter(sSum[i], tap.s, T, tap.module.dOut);
    });
  }
  if (positions === 0) throw new RangeError("no training positions to fit covariances on");
  return {
    activation: modules.map((m, i) => symmetricMean(aSum[i], m.cols, positions)),
    gradient: modules.map((m, i) => symmetricMean(sSum[i], m.dOut, positions)),
    positions,
  };
}

/** Λ pass: ekfac's mean rotated squared gradient, or diagonal's mean squared gradient. */
export function fitLambda(
  model: ReferenceModel,
  examples: readonly InfluenceExample[],
  factors: readonly ModuleFactors[],
  strategy: "ekfac" | "diagonal",
): Float64Array[] {
  const modules = factors.map((f) => f.module);
  const sums = modules.map((m) => new Float64Array(m.dOut * m.cols));
  if (examples.length === 0) throw new RangeError("no training sequences to fit Λ on");
  for (const example of examples) {
    const { taps } = sequenceTaps(model, example, modules);
    taps.forEach((tap, i) => {
      let g = tapGradient(tap);
      if (strategy === "ekfac") g = rotateIntoEigenbasis(factors[i], g);
      const sum = sums[i];
      for (let j = 0; j < g.length; j++) sum[j] += g[j] * g[j];
    });
  }
  return sums.map((s) => s.map((v) => v / examples.length));
}

/** Factors of every tracked module for `strategy`, fitted on `examples`. */
export function fitFactorsReference(options: FitFactorsOptions): InfluenceFactors {
  const strategy = options.strategy ?? "ekfac";
  const model = referenceModel(options.params, options.config);
  const modules = resolveModules(model.config, options.modules);
  const { examples } = options;
  const factors: ModuleFactors[] = modules.map((module) => ({ module }));
  let positions = 0, sequences = 0;
  if (strategy === "kfac" || strategy === "ekfac") {
    const cov = fitCovariances(model, examples, modules);
    positions = cov.positions;
    factors.forEach((f, i) => {
      f.activationCovariance = cov.activation[i];
      f.gradientCovariance = cov.gradient[i];
      f.activationEigen = eigh(cov.activation[i], f.module.cols);
      f.gradientEigen = eigh(cov.gradient[i], f.module.dOut);
    });
  }
  if (strategy === "kfac") {
    for (const f of factors) {
      const lS = f.gradientEigen!.values, lA = f.activationEigen!.values;
      const { dOut, cols } = f.module;
      const lambda = new Float64Array(dOut * cols);
      for (let j = 0; j < dOut; j++) {
        for (let k = 0; k < cols; k++) lambda[j * cols + k] = lS[j] * lA[k];
      }
      f.lambda = lambda;
    }
  } else if (strategy === "ekfac" || strategy === "diagonal") {
    const lambdas = fitLambda(model, examples, factors, strategy);
    factors.forEach((f, i) => (f.lambda = lambdas[i]));
    sequences = examples.length;
  } else if (strategy !== "identity") {
    throw new RangeError(`unknown strategy "${strategy}"`);
  }
  return { strategy, modules: factors, positions, sequences };
}
