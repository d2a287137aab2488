// TracIn-CP on the GPU (Pruthi et al. 2020): over a run's checkpoints c with learning rates η_c,
//   TracIn(q, m) = Σ_c η_c ⟨∇ℓ_q(θ_c), ∇ℓ_m(θ_c)⟩,
// each loss summed over the example's labelled tokens (influence functions' convention,
// taps.ts summedLoss). Per-module terms are kept; they sum to the score.
//
// parameters "mlp" | "linear": the gradient of the tracked linear modules (c_fc and c_proj, or all
//   four of every block) with the bias folded in, i.e. identity-strategy influence scores at each
//   checkpoint (scores/engine.ts computeScores), summed with weights η_c.
// parameters "all": every parameter, the tied token embedding counted once (its gradient holds
//   both the embedding and the LM head's share; wte's zero padding rows are left out). Each
//   example's full gradient comes from a backward on a batch of one; the queries' gradients stay
//   on the GPU ([Q, n] per parameter tensor, split into query chunks a binding can hold; past
//   `queryBudgetElements` the queries go in groups, each streaming the training set again), the
//   training examples stream through one at a time, and ⟨∇ℓ_q, ∇ℓ_m⟩ per parameter tensor is one
//   matmul [Q, n]·[n, 1]. Modules ("all"): one term per parameter group, the weight and bias of
//   a layer together: wte, wpe, h.{l}.ln_1, h.{l}.attn.c_attn, h.{l}.attn.c_proj, h.{l}.ln_2,
//   h.{l}.mlp.c_fc, h.{l}.mlp.c_proj, ln_f.
// With a projection (src/projection/: dense, TRAK's φ = Pᵀg, or Kronecker, LoGra's per-layer
//   P_outᵀ·DW·P_in) the gradients of the selected parameters are projected to `dim` columns at
//   every checkpoint and TracIn is Σ_c η_c ⟨φ_q(θ_c), φ_m(θ_c)⟩, one term named "projection".
//   The training examples are projected in chunks, so their projections are never all held.
import { matmul } from "../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { Gpt2Model } from "../gpt2/model.ts";
import { type ParamSet, paramSpecs } from "../gpt2/params.ts";
import { summedLoss } from "../gpt2/taps.ts";
import { factorSetFrom } from "../influence/factors/factor_set.ts";
import { trackedModules } from "../influence/modules.ts";
import { computeScores, type ScoreResult } from "../influence/scores/engine.ts";
import { type Sequence, sequenceBatches } from "../influence/sequences.ts";
import { projectGradients } from "../projection/engine.ts";
import type { ProjectionSpec } from "../projection/math.ts";

export const TRACIN_PARAMETERS = ["all", "mlp", "linear"] as const;
export type TracinParameters = (typeof TRACIN_PARAMETERS)[number];

export interface TracinCheckpoint {
  /** The weights after this step (1-based). */
  step: number;
  /** η_c: the learning rate of that step. */
  lr: number;
  /** Loaded when the checkpoint's turn comes (one checkpoint's weights in memory at a time). */
  params: () => Promise<ParamSet>;
}

export interface TracinProgress {
  /** Index of the checkpoint being processed, and how many there are. */
  checkpoint: number;
  checkpoints: number;
  phase: "queries" | "training";
  done: number;
  total: number;
  /** Tokens through the model so far, over all checkpoints. */
  tokens: number;
}

export interface ComputeTracinOptions {
  runtime: GpuRuntime;
  checkpoints: readonly TracinCheckpoint[];
  parameters: TracinParameters;
  train: readonly Sequence[];
  queries: readonly Sequence[];
  /** Training batch size of the identity-score and projection passes. */
  batchSize?: number;
  /** Project the selected parameters' gradients first (null: exact gradients). */
  projection?: ProjectionSpec | null;
  /** With a projection: training examples projected per pass (default 256). */
  projectionChunk?: number;
  signal?: AbortSignal;
  onProgress?: (p: TracinProgress) => void;
  /**
   * Lowers the largest tensor ("all": a chunk of query gradients) planned for, in elements
   * (default: the device's binding limit), so that tests can take the query-chunk path.
   */
  maxBindingElements?: number;
  /**
   * "all": how many gradient elements of queries are held on the GPU at once (default 2^28, 1 GiB;
   * at least one query). More queries than that are scored in groups, each streaming the
   * training examples again.
   */
  queryBudgetElements?: number;
}

const DEFAULT_QUERY_BUDGET = 2 ** 28;

/** How many times each checkpoint streams the training examples (query groups, "all"). */
export function trainingPasses(
  config: ParamSet["config"],
  parameters: TracinParameters,
  queries: number,
  queryBudgetElements = DEFAULT_QUERY_BUDGET,
): number {
  if (parameters !== "all") return 1;
  // Every parameter, wte without its padding rows: the pieces fullGradientTerms holds.
  const P = paramSpecs(config).reduce((n, s) => n + s.size, 0);
  const perGroup = Math.max(1, Math.min(queries, Math.floor(queryBudgetElements / P)));
  return Math.ceil(queries / perGroup);
}

/** One checkpoint's unweighted terms: [modules][Q·M], rows are queries. */
interface CheckpointTerms {
  modules: string[];
  perModule: ArrayLike<number>[];
}

/** Where a parameter tensor's gradient lives, and the group (module) it counts towards. */
interface Piece {
  group: number;
  segment: number;
  offset: number;
  size: number;
}

/** The parameter group of an HF parameter name: the name without `.weight` / `.bias`. */
export function parameterGroup(name: string): string {
  return name.replace(/\.(weight|bias)$/, "");
}

/** ⟨∇ℓ_q, ∇ℓ_m⟩ over every parameter at one set of weights, per parameter group. */
async function fullGradientTerms(
  rt: GpuRuntime,
  params: ParamSet,
  train: readonly Sequence[],
  queries: readonly Sequence[],
  progress: (phase: TracinProgress["phase"], done: number, total: number, tokens: number) => void,
  signal?: AbortSignal,
  maxBindingElements = Infinity,
  queryBudgetElements = DEFAULT_QUERY_BUDGET,
): Promise<CheckpointTerms> {
  const Q = queries.length;
  const M = train.length;
  const model = Gpt2Model.create(rt, params);
  try {
    const { layout } = model;
    const { vocab_size: V, n_embd: d } = params.config;
    const groups: string[] = [];
    const groupIndex = new Map<string, number>();
    const pieces: Piece[] = [];
    for (const spec of paramSpecs(params.config)) {
      const name = parameterGroup(spec.name);
      if (!groupIndex.has(name)) groupIndex.set(name, groups.push(name) - 1);
      const group = groupIndex.get(name)!;
      if (spec.name === "wte.weight") {
        for (const block of layout.vocabBlocks) {
          const rows = Math.min(block.rows, V - block.start);
          if (rows > 0) {
            pieces.push({ group, segment: block.segment, offset: block.offset, size: rows * d });
          }
        }
      } else {
        const slot = layout.byName.get(spec.name)!;
        pieces.push({ group, segment: slot.segment, offset: slot.offset, size: slot.size });
      }
    }
    const binding = Math.min(
      maxBindingElements,
      Math.floor(
        Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize) / 4,
      ),
    );
    const gradView = (piece: Piece, shape: number[]) =>
      model.gradSegments[piece.segment].view(shape, undefined, piece.offset);
    const P = pieces.reduce((n, piece) => n + piece.size, 0);
    // Queries in groups whose gradients fit the budget; each group streams the training set once.
    const perGroup = Math.max(1, Math.min(Q, Math.floor(queryBudgetElements / P)));
    const terms = groups.map(() => new Float64Array(Q * M));
    let tokens = 0;
    for (let first = 0; first < Q; first += perGroup) {
      const G = Math.min(perGroup, Q - first);
      const tensors: Tensor[] = [];
      try {
        // Per piece, the group's query gradients in chunks of rows: [rows, size] each.
        const stored = pieces.map((piece) => {
          const perChunk = Math.max(1, Math.floor(binding / piece.size));
          const chunks: { first: number; rows: number; tensor: Tensor }[] = [];
          for (let at = 0; at < G; at += perChunk) {
            const rows = Math.min(perChunk, G - at);
            const tensor = rt.zeros([rows, piece.size]);
            tensors.push(tensor);
            chunks.push({ first: at, rows, tensor });
          }
          return chunks;
        });
        for (const sb of sequenceBatches(queries.slice(first, first + G), 1)) {
          signal?.throwIfAborted();
          await model.backward(sb.batch, summedLoss());
          const q = sb.start;
          pieces.forEach((piece, p) => {
            const chunk = stored[p].find((c) => q >= c.first && q < c.first + c.rows)!;
            const dst = chunk.tensor.view([piece.size], undefined, (q - chunk.first) * piece.size);
            rt.copy(gradView(piece, [piece.size]), dst, piece.size);
          });
          tokens += sb.positions;
          progress("queries", first + q + 1, Q, tokens);
        }
        const out = rt.zeros([pieces.length * G]);
        tensors.push(out);
        for (const sb of sequenceBatches(train, 1)) {
          signal?.throwIfAborted();
          await model.backward(sb.batch, summedLoss());
          for (const [p, piece] of pieces.entries()) {
            const g = gradView(piece, [piece.size, 1]);
            for (const chunk of stored[p]) {
              const target = out.view([chunk.rows, 1], undefined, p * G + chunk.first);
              await matmul(rt, chunk.tensor, g, target);
            }
          }
          const [values] = await rt.read([out]);
          const m = sb.start;
          for (const [p, piece] of pieces.entries()) {
            const term = terms[piece.group];
            for (let q = 0; q < G; q++) term[(first + q) * M + m] += values[p * G + q];
          }
          tokens += sb.positions;
          progress("training", m + 1, M, tokens);
        }
      } finally {
        for (const t of tensors) t.dispose();
      }
    }
    return { modules: groups, perModule: terms };
  } finally {
    model.dispose();
  }
}

/** Identity-strategy influence scores of the tracked modules at one set of weights. */
async function linearModuleTerms(
  rt: GpuRuntime,
  params: ParamSet,
  parameters: "mlp" | "linear",
  train: readonly Sequence[],
  queries: readonly Sequence[],
  batchSize: number,
  progress: (phase: TracinProgress["phase"], done: number, total: number, tokens: number) => void,
  signal?: AbortSignal,
): Promise<CheckpointTerms> {
  const modules = trackedModules(params.config, parameters === "mlp" ? "mlp" : "all");
  const result = await computeScores({
    runtime: rt,
    params,
    factors: factorSetFrom("identity", modules, { positions: 0, sequences: 0 }, () => null),
    train,
    queries,
    mode: "pairwise",
    batchSize,
    signal,
    onProgress: (p) =>
      progress(p.phase === "training" ? "training" : "queries", p.done, p.total, p.tokens),
  });
  return { modules: result.modules, perModule: result.perModule };
}

/** Training examples projected per call of projectGradients (bounds the φ held at once). */
const DEFAULT_PROJECTION_CHUNK = 256;

/** ⟨φ_q, φ_m⟩ of projected gradients at one set of weights: one term, "projection". */
async function projectedTerms(
  rt: GpuRuntime,
  params: ParamSet,
  parameters: TracinParameters,
  projection: ProjectionSpec,
  train: readonly Sequence[],
  queries: readonly Sequence[],
  batchSize: number,
  progress: (phase: TracinProgress["phase"], done: number, total: number, tokens: number) => void,
  signal?: AbortSignal,
  chunkSize = DEFAULT_PROJECTION_CHUNK,
): Promise<CheckpointTerms> {
  const Q = queries.length;
  const M = train.length;
  const k = projection.dim;
  // A chunk's φ [c, k] must fit one binding too.
  const binding = Math.floor(
    Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize) / 4,
  );
  chunkSize = Math.max(1, Math.min(chunkSize, Math.floor(binding / k)));
  const project = (
    sequences: readonly Sequence[],
    onProgress: (p: { done: number; tokens: number }) => void,
  ) =>
    projectGradients({
      runtime: rt,
      params,
      sequences,
      projection,
      parameters,
      batchSize,
      signal,
      onProgress,
    });
  const phiQ = rt.tensor(
    await project(queries, (p) => progress("queries", p.done, Q, p.tokens)),
    [Q, k],
  );
  let queryTokens = 0;
  for (const q of queries) queryTokens += q.tokens.length;
  const out = rt.zeros([Q, Math.min(chunkSize, M)]);
  const terms = new Float64Array(Q * M);
  let tokens = queryTokens;
  try {
    for (let start = 0; start < M; start += chunkSize) {
      const chunk = train.slice(start, start + chunkSize);
      const c = chunk.length;
      const before = tokens;
      const phiM = rt.tensor(
        await project(chunk, (p) => progress("training", start + p.done, M, before + p.tokens)),
        [c, k],
      );
      try {
        const target = out.view([Q, c], undefined, 0);
        await matmul(rt, phiQ, phiM.transposeView(), target);
        const [values] = await rt.read([out]);
        for (let q = 0; q < Q; q++) {
          for (let j = 0; j < c; j++) terms[q * M + start + j] = values[q * c + j];
        }
      } finally {
        phiM.dispose();
      }
      for (const s of chunk) tokens += s.tokens.length;
    }
  } finally {
    phiQ.dispose();
    out.dispose();
  }
  return { modules: ["projection"], perModule: [terms] };
}

/** TracIn-CP scores [Q·M] (rows are queries), as a pairwise ScoreResult with per-module terms. */
export async function computeTracin(o: ComputeTracinOptions): Promise<ScoreResult> {
  const Q = o.queries.length;
  const M = o.train.length;
  const C = o.checkpoints.length;
  if (C === 0) throw new RangeError("TracIn needs at least one checkpoint");
  if (Q === 0) throw new RangeError("no queries to score");
  if (M === 0) throw new RangeError("no training sequences to score");
  let modules: string[] | null = null;
  let sums: Float64Array[] = [];
  let tokensBefore = 0;
  for (const [c, checkpoint] of o.checkpoints.entries()) {
    o.signal?.throwIfAborted();
    const params = await checkpoint.params();
    let tokensHere = 0;
    const progress = (phase: TracinProgress["phase"], done: number, total: number, t: number) => {
      tokensHere = t;
      o.onProgress?.({
        checkpoint: c,
        checkpoints: C,
        phase,
        done,
        total,
        tokens: tokensBefore + t,
      });
    };
    const terms = o.projection
      ? await projectedTerms(
        o.runtime,
        params,
        o.parameters,
        o.projection,
        o.train,
        o.queries,
        o.batchSize ?? 8,
        progress,
        o.signal,
        o.projectionChunk,
      )
      : o.parameters === "all"
      ? await fullGradientTerms(
        o.runtime,
        params,
        o.train,
        o.queries,
        progress,
        o.signal,
        o.maxBindingElements,
        o.queryBudgetElements,
      )
      : await linearModuleTerms(
        o.runtime,
        params,
        o.parameters,
        o.train,
        o.queries,
        o.batchSize ?? 8,
        progress,
        o.signal,
      );
    tokensBefore += tokensHere;
    if (modules === null) {
      modules = terms.modules;
      sums = modules.map(() => new Float64Array(Q * M));
    }
    terms.perModule.forEach((term, i) => {
      const sum = sums[i];
      for (let j = 0; j < sum.length; j++) sum[j] += checkpoint.lr * term[j];
    });
  }
  const total = new Float64Array(Q * M);
  for (const sum of sums) for (let j = 0; j < total.length; j++) total[j] += sum[j];
  return {
    mode: "pairwise",
    modules: modules!,
    damping: modules!.map(() => 0),
    ranks: modules!.map(() => null),
    queries: Q,
    train: M,
    perModule: sums.map((s) => Float32Array.from(s)),
    total,
  };
}
