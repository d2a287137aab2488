// The scores stage on the GPU (kronfluence's compute_pairwise_scores / compute_self_scores).
//
// 1. Queries: each query's measurement gradient G_q (summed loss over its labelled tokens) per
//    tracked module, preconditioned: P̃_q = G̃_q ⊘ (Λ + λ), with G̃ = Q_Sᵀ·G·Q_A for EK-FAC/KFAC
//    (the score is basis-free: ⟨P_q, DW⟩ = ⟨P̃_q, Q_Sᵀ·DW·Q_A⟩), G ⊘ (Λ + λ) for the diagonal
//    Fisher, and G itself for identity. With `queryRank` k, P̃_q is replaced by its best rank-k
//    approximation Σ_j u_j v_jᵀ (query_rank.ts) wherever min(dOut, cols) > k.
// 2. Training sequences stream through in batches: per module their masked per-token rows (in
//    the eigenbasis when there is one), then
//      full rank: the sequences' gradient matrices G̃_b and scores[b, q] = ⟨G̃_b, P̃_q⟩ (matmul);
//      rank k:    x = s̃·U, y = ã·V and scores = Σ_t Σ_j x·y, never forming G̃_b;
//    token scores s̃_tᵀ·P̃_q·ã_t (their sum over t is the pair's score), and self-influence
//    ⟨G̃_b ⊘ (Λ + λ), G̃_b⟩. Per-module terms are kept; the total is their sum.
import { add } from "../../gpu/kernels/elementwise.ts";
import { matmul } from "../../gpu/kernels/matmul.ts";
import { rowDot } from "../../gpu/kernels/reduce.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { Gpt2Model } from "../../gpt2/model.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import { summedLoss } from "../../gpt2/taps.ts";
import { type FactorSet, heuristicDamping, usesEigenbasis } from "../factors/factor_set.ts";
import { lowRankPairs, lowRankTokens } from "../kernels/lowrank.ts";
import { precondition } from "../kernels/precondition.ts";
import type { TrackedModule } from "../modules.ts";
import { longest, type Sequence, sequenceBatches } from "../sequences.ts";
import { queryRankFactors } from "./query_rank.ts";
import { type Eigenbases, type TapRows, TapScratch } from "../tap_rows.ts";

export type ScoreMode = "pairwise" | "self";

export interface ScoreProgress {
  phase: "queries" | "low rank" | "training";
  done: number;
  total: number;
  tokens: number;
}

export interface ComputeScoresOptions {
  runtime: GpuRuntime;
  params: ParamSet;
  factors: FactorSet;
  /** Training sequences, scored in this order. */
  train: readonly Sequence[];
  /** Queries (pairwise mode). */
  queries?: readonly Sequence[];
  mode?: ScoreMode;
  /** An absolute damping for every module, or null: 0.1 × mean(Λ) per module. */
  damping?: number | null;
  /** Rank of the query factors; null: full rank. */
  queryRank?: number | null;
  /** Keep one score per training input position (pairwise mode). */
  perToken?: boolean;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: ScoreProgress) => void;
}

export interface ScoreResult {
  mode: ScoreMode;
  modules: string[];
  /** Damping used per module (0 for identity). */
  damping: number[];
  /** Rank kept per module (null: full). */
  ranks: (number | null)[];
  queries: number;
  train: number;
  /** Pairwise: [modules][Q·M] row-major (rows are queries); self: [modules][M]. */
  perModule: Float32Array[];
  /** Σ over modules, in float64: pairwise [Q·M], self [M]. */
  total: Float64Array;
  /** Pairwise with perToken: [Q][M] → one score per input position of training sequence m. */
  tokens?: Float32Array[][];
}

const DEFAULTS: {
  mode: ScoreMode;
  damping: number | null;
  queryRank: number | null;
  perToken: boolean;
  batchSize: number;
} = { mode: "pairwise", damping: null, queryRank: null, perToken: false, batchSize: 8 };

/** Thrown when the queries' preconditioned gradients cannot be held at once. */
export class QueriesTooLargeError extends RangeError {
  override name = "QueriesTooLargeError";
}

interface ModuleState {
  module: TrackedModule;
  bases: Eigenbases | null;
  lambda: Tensor | null;
  damping: number;
  /** Full rank: P̃ [Q, dOut·cols]. */
  preconditioned: Tensor | null;
  /** Rank k: U [dOut, Q·k] and V [cols, Q·k] (column q·k + j). */
  lowRank: { k: number; u: Tensor; v: Tensor } | null;
}

/** Where one training batch's results go: [modules][B·Q] pair scores (or [modules][B] self). */
interface BatchOutputs {
  pairs: Tensor;
  tokens: Tensor | null;
  tokenTerm: Tensor | null;
  tokenRows: Tensor | null;
}

export async function computeScores(options: ComputeScoresOptions): Promise<ScoreResult> {
  const o = { ...DEFAULTS, ...options };
  const rt = o.runtime;
  const { factors } = o;
  const pairwise = o.mode === "pairwise";
  const queries = pairwise ? o.queries ?? [] : [];
  if (o.train.length === 0) throw new RangeError("no training sequences to score");
  if (pairwise && queries.length === 0) throw new RangeError("no queries to score");
  const Q = queries.length;
  const M = o.train.length;
  const L = factors.modules.length;
  const perToken = pairwise && o.perToken;
  const rotate = usesEigenbasis(factors.strategy);
  const owned: Tensor[] = [];
  const keep = (t: Tensor) => (owned.push(t), t);
  const binding = Math.floor(
    Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize) / 4,
  );
  const trainLongest = longest(o.train);
  const maxRows = o.batchSize * Math.max(trainLongest, longest(queries));
  const model = Gpt2Model.create(rt, o.params);
  const scratch = new TapScratch(rt, factors.modules.map((f) => f.module), maxRows, o.batchSize);
  let tokensSeen = 0;
  try {
    const states: ModuleState[] = factors.modules.map((f) => ({
      module: f.module,
      bases: rotate
        ? {
          qA: keep(rt.tensor(f.qA!, [f.module.cols, f.module.cols])),
          qS: keep(rt.tensor(f.qS!, [f.module.dOut, f.module.dOut])),
        }
        : null,
      lambda: f.lambda && factors.strategy !== "identity" ? keep(rt.tensor(f.lambda)) : null,
      damping: factors.strategy === "identity" ? 0 : o.damping ?? heuristicDamping(f),
      preconditioned: null,
      lowRank: null,
    }));
    const index = new Map(states.map((s, i) => [s.module.name, i]));
    const D = (s: ModuleState) => s.module.dOut * s.module.cols;
    const preconditionedChunk = keep(rt.zeros([scratch.gradElements]));
    const preconditionInto = async (s: ModuleState, g: Tensor, out: Tensor) => {
      if (s.lambda) await precondition(rt, g, s.lambda, s.damping, out);
      else rt.copy(g, out);
    };

    /** Streams sequences through backward; `visit` sees each module's rows (rotated if so). */
    const stream = async (
      sequences: readonly Sequence[],
      phase: ScoreProgress["phase"],
      visit: (
        s: ModuleState,
        i: number,
        rows: TapRows,
        start: number,
        B: number,
        T: number,
      ) => Promise<void>,
      after: (start: number, B: number, T: number) => Promise<void>,
    ) => {
      for (const sb of sequenceBatches(sequences, o.batchSize)) {
        o.signal?.throwIfAborted();
        const { B, T } = sb.batch;
        const mask = rt.tensor(sb.tokenMask);
        try {
          await model.backward(sb.batch, summedLoss(), {
            linear: async (tap) => {
              const i = index.get(tap.name);
              if (i === undefined) return;
              const s = states[i];
              let rows = await scratch.rows(tap, s.module, mask);
              if (s.bases) rows = await scratch.rotate(rows, s.module, s.bases);
              await visit(s, i, rows, sb.start, B, T);
            },
          }, { parameterGradients: false });
          await after(sb.start, B, T);
        } finally {
          mask.dispose();
        }
        tokensSeen += sb.positions;
        o.onProgress?.({
          phase,
          done: sb.start + sb.sequences.length,
          total: sequences.length,
          tokens: tokensSeen,
        });
      }
    };

    /** Calls `fn` on chunks of a batch's per-sequence gradient matrices, [count, D]. */
    const forGradientChunks = async (
      s: ModuleState,
      rows: TapRows,
      B: number,
      T: number,
      fn: (g: Tensor, from: number, count: number) => Promise<void>,
    ) => {
      const chunk = scratch.sequencesPerChunk(s.module);
      for (let from = 0; from < B; from += chunk) {
        const count = Math.min(chunk, B - from);
        await fn(await scratch.gradients(rows, s.module, T, from, count), from, count);
      }
    };

    // ---- 1. queries: P̃_q per module -----------------------------------------------------------
    const ranks: (number | null)[] = states.map(() => null);
    if (pairwise) {
      for (const s of states) {
        if (Q * D(s) > binding) {
          throw new QueriesTooLargeError(
            `${Q} queries' preconditioned gradients of ${s.module.name} need ${Q * D(s)} ` +
              `elements, more than this GPU binds at once (${binding}): use fewer queries`,
          );
        }
        s.preconditioned = keep(rt.zeros([Q, D(s)]));
      }
      await stream(queries, "queries", async (s, _i, rows, start, B, T) => {
        await forGradientChunks(s, rows, B, T, async (g, from, count) => {
          const out = s.preconditioned!.view([count, D(s)], undefined, (start + from) * D(s));
          await preconditionInto(s, g, out);
        });
      }, async () => {});

      // ---- rank k: Σ_j u_j v_jᵀ per query, where the module is larger than k ----------------
      const k = o.queryRank;
      if (k !== null) {
        for (const [i, s] of states.entries()) {
          o.signal?.throwIfAborted();
          o.onProgress?.({ phase: "low rank", done: i, total: L, tokens: tokensSeen });
          const { dOut, cols } = s.module;
          if (Math.min(dOut, cols) <= k) continue;
          const f = await queryRankFactors(rt, s.preconditioned!, s.module, Q, k);
          s.lowRank = {
            k,
            u: keep(rt.tensor(f.u, [dOut, Q * k])),
            v: keep(rt.tensor(f.v, [cols, Q * k])),
          };
          s.preconditioned!.dispose();
          s.preconditioned = null;
          ranks[i] = k;
        }
      }
    }

    // ---- 2. training sequences ------------------------------------------------------------------
    const perBatch = pairwise ? o.batchSize * Q : o.batchSize;
    const out: BatchOutputs = {
      pairs: keep(rt.zeros([L * perBatch])),
      tokens: perToken ? keep(rt.zeros([Q * o.batchSize * trainLongest])) : null,
      tokenTerm: perToken ? keep(rt.zeros([o.batchSize * trainLongest])) : null,
      tokenRows: perToken
        ? keep(
          rt.zeros([o.batchSize * trainLongest * Math.max(...states.map((s) => s.module.cols))]),
        )
        : null,
    };
    const perModule = states.map(() => new Float32Array(pairwise ? Q * M : M));
    const tokens: Float32Array[][] | undefined = perToken
      ? Array.from({ length: Q }, () => new Array<Float32Array>(M))
      : undefined;
    const lowRankWidth = Math.max(0, ...states.map((s) => (s.lowRank ? Q * s.lowRank.k : 0)));
    const xy = lowRankWidth > 0
      ? { x: keep(rt.zeros([maxRows * lowRankWidth])), y: keep(rt.zeros([maxRows * lowRankWidth])) }
      : null;

    await stream(o.train, "training", async (s, i, rows, _start, B, T) => {
      const N = B * T;
      const slot = out.pairs.view([pairwise ? B * Q : B], undefined, i * perBatch);
      if (!pairwise) {
        // Self-influence: ⟨G̃_b ⊘ (Λ + λ), G̃_b⟩.
        await forGradientChunks(s, rows, B, T, async (g, from, count) => {
          const p = preconditionedChunk.view([count, D(s)]);
          await preconditionInto(s, g, p);
          await rowDot(rt, p, g, slot.view([count], undefined, slot.offset + from));
        });
        return;
      }
      if (s.lowRank) {
        const { k, u, v } = s.lowRank;
        const x = xy!.x.view([N, Q * k]);
        const y = xy!.y.view([N, Q * k]);
        await matmul(rt, rows.s, u, x);
        await matmul(rt, rows.a, v, y);
        await lowRankPairs(rt, x, y, { Q, B, T, k }, slot);
        if (out.tokens) await lowRankTokens(rt, x, y, { Q, B, T, k }, out.tokens.view([Q * N]));
        return;
      }
      // Full rank: scores[b, q] = ⟨G̃_b, P̃_q⟩.
      const P = s.preconditioned!;
      await forGradientChunks(s, rows, B, T, async (g, from, count) => {
        const target = slot.view([count, Q], undefined, slot.offset + from * Q);
        await matmul(rt, g, P.transposeView(), target);
      });
      if (out.tokens) {
        // Token t of sequence b: s̃_tᵀ·P̃_q·ã_t, summed over modules.
        const { dOut, cols } = s.module;
        const z = out.tokenRows!.view([N, cols]);
        const term = out.tokenTerm!.view([N]);
        for (let q = 0; q < Q; q++) {
          await matmul(rt, rows.s, P.view([dOut, cols], undefined, P.offset + q * D(s)), z);
          await rowDot(rt, z, rows.a, term);
          const dst = out.tokens.view([N], undefined, q * N);
          await add(rt, dst, term, dst);
        }
      }
    }, async (start, B, T) => {
      const N = B * T;
      const [pairs, tok] = await rt.read(out.tokens ? [out.pairs, out.tokens] : [out.pairs]);
      for (let i = 0; i < L; i++) {
        const base = i * perBatch;
        for (let b = 0; b < B; b++) {
          if (!pairwise) {
            perModule[i][start + b] = pairs[base + b];
            continue;
          }
          for (let q = 0; q < Q; q++) perModule[i][q * M + start + b] = pairs[base + b * Q + q];
        }
      }
      if (tokens && tok) {
        for (let q = 0; q < Q; q++) {
          for (let b = 0; b < B; b++) {
            const length = o.train[start + b].tokens.length;
            tokens[q][start + b] = tok.slice(q * N + b * T, q * N + b * T + length);
          }
        }
        rt.write(out.tokens!.view([Q * N]), new Float32Array(Q * N));
      }
    });

    const total = new Float64Array(pairwise ? Q * M : M);
    for (const m of perModule) for (let j = 0; j < total.length; j++) total[j] += m[j];
    return {
      mode: o.mode,
      modules: states.map((s) => s.module.name),
      damping: states.map((s) => s.damping),
      ranks,
      queries: Q,
      train: M,
      perModule,
      total,
      tokens,
    };
  } finally {
    for (const t of owned) t.dispose();
    scratch.dispose();
    model.dispose();
  }
}
