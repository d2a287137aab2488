// The factors stage on the GPU (kronfluence's fit_all_factors): per tracked module, the Kronecker
// covariances A and S (pass 1), their float64 eigendecompositions on the CPU, and Λ (pass 2:
// EK-FAC's eigenvalue correction, or the diagonal Fisher). Training sequences stream through in
// batches; only the factors stay on the GPU.
//
// Conventions (MATH.md §4, kronfluence's): the objective is each sequence's summed loss; A and S
// sum every non-padding position and are divided by that count, then symmetrised; Λ averages
// over sequences; KFAC's Λ is outer(λ_S, λ_A) unclamped. With the true Fisher the labels are
// sampled from the model (independent draws in the two passes); with the empirical Fisher they
// are the data's.
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { linearAlgebra } from "../../linalg/select.ts";
import { Gpt2Model } from "../../gpt2/model.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import { type LabelSource, summedLoss } from "../../gpt2/taps.ts";
import { accumulateCovariance } from "../kernels/covariance.ts";
import { squareAccumulate } from "../kernels/correction.ts";
import type { TrackedModule } from "../modules.ts";
import { longest, type Sequence, sequenceBatches } from "../sequences.ts";
import { TapScratch } from "../tap_rows.ts";
import type { FactorSet, Fisher, ModuleFactorSet, Strategy } from "./factor_set.ts";

export interface FitProgress {
  pass: "covariances" | "eigendecomposition" | "lambda";
  /** Sequences done in this pass, of `total`. */
  done: number;
  total: number;
  /** Real tokens processed so far, all passes. */
  tokens: number;
}

export interface FitFactorsOptions {
  runtime: GpuRuntime;
  params: ParamSet;
  sequences: readonly Sequence[];
  modules: readonly TrackedModule[];
  strategy?: Strategy;
  /** Default "true": labels sampled from the model's predictive distribution. */
  fisher?: Fisher;
  /** Seeds the sampled labels. Default 0. */
  seed?: number;
  /** Sequences per GPU batch. Default 8. */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: FitProgress) => void;
}

const DEFAULTS = { strategy: "ekfac", fisher: "true", seed: 0, batchSize: 8 } as const;

/** One pass over the training sequences, the visitor seeing each tracked module's masked rows. */
async function pass(
  model: Gpt2Model,
  o: Required<Omit<FitFactorsOptions, "signal" | "onProgress">> & FitFactorsOptions,
  labels: (start: number) => LabelSource,
  scratch: TapScratch,
  visit: (
    module: number,
    rows: Awaited<ReturnType<TapScratch["rows"]>>,
    T: number,
    B: number,
  ) => Promise<void>,
  report: (done: number, tokens: number) => void,
): Promise<number> {
  const rt = o.runtime;
  const index = new Map(o.modules.map((m, i) => [m.name, i]));
  let positions = 0;
  for (const sb of sequenceBatches(o.sequences, o.batchSize)) {
    o.signal?.throwIfAborted();
    const mask = rt.tensor(sb.tokenMask);
    try {
      await model.backward(sb.batch, summedLoss(labels(sb.start)), {
        linear: async (tap) => {
          const i = index.get(tap.name);
          if (i === undefined) return;
          const rows = await scratch.rows(tap, o.modules[i], mask);
          await visit(i, rows, sb.batch.T, sb.batch.B);
        },
      }, { parameterGradients: false });
      // backward read its results back, so the batch's work has run: the mask may go.
    } finally {
      mask.dispose();
    }
    positions += sb.positions;
    report(sb.start + sb.sequences.length, sb.positions);
  }
  return positions;
}

/** A 32-bit seed from a few integers (a multiply-xorshift mix, the same on every platform). */
function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Symmetrised mean of a summed covariance, in float64. */
function symmetricMean(sum: Float32Array, n: number, count: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) out[i * n + j] = (sum[i * n + j] + sum[j * n + i]) / (2 * count);
  }
  return out;
}

export async function fitFactors(options: FitFactorsOptions): Promise<FactorSet> {
  const o = { ...DEFAULTS, ...options };
  const rt = o.runtime;
  if (o.sequences.length === 0) throw new RangeError("no training sequences to fit factors on");
  const modules = o.modules;
  const sets: ModuleFactorSet[] = modules.map((module) => ({ module }));
  const result: FactorSet = { strategy: o.strategy, modules: sets, positions: 0, sequences: 0 };
  if (o.strategy === "identity") return result;

  const total = o.sequences.length;
  let tokens = 0;
  const progress = (p: FitProgress["pass"]) => (done: number, t: number) => {
    tokens += t;
    o.onProgress?.({ pass: p, done, total, tokens });
  };
  // Sampled labels are drawn per (seed, batch row, position): a batch's own seed keeps batches,
  // and the two passes, independent.
  const labels = (draw: number) => (start: number): LabelSource =>
    o.fisher === "true"
      ? { kind: "sampled", seed: mixSeed(o.seed, draw, start) }
      : { kind: "data" };
  const model = Gpt2Model.create(rt, o.params);
  const scratch = new TapScratch(rt, modules, o.batchSize * longest(o.sequences), o.batchSize);
  const owned: Tensor[] = [];
  const keep = (t: Tensor) => (owned.push(t), t);
  try {
    let bases: { qA: Tensor; qS: Tensor }[] = [];
    if (o.strategy === "ekfac" || o.strategy === "kfac") {
      // Pass 1: A = Σ a aᵀ, S = Σ s sᵀ over real tokens.
      const covA = modules.map((m) => keep(rt.zeros([m.cols, m.cols])));
      const covS = modules.map((m) => keep(rt.zeros([m.dOut, m.dOut])));
      result.positions = await pass(model, o, labels(0), scratch, async (i, rows) => {
        await accumulateCovariance(rt, rows.a, covA[i]);
        await accumulateCovariance(rt, rows.s, covS[i]);
      }, progress("covariances"));
      const sums = await rt.read([...covA, ...covS]);
      modules.forEach((m, i) => {
        o.signal?.throwIfAborted();
        o.onProgress?.({ pass: "eigendecomposition", done: i, total: modules.length, tokens });
        // LAPACK's dsyevd when OpenBLAS is installed, eigh.ts otherwise (src/linalg/select.ts).
        const { symmetricEigen } = linearAlgebra();
        const a = symmetricEigen(symmetricMean(sums[i], m.cols, result.positions), m.cols);
        const mean = symmetricMean(sums[modules.length + i], m.dOut, result.positions);
        const s = symmetricEigen(mean, m.dOut);
        Object.assign(sets[i], {
          qA: Float32Array.from(a.vectors),
          qS: Float32Array.from(s.vectors),
          eigA: Float32Array.from(a.values),
          eigS: Float32Array.from(s.values),
        });
      });
      bases = sets.map((f) => ({
        qA: keep(rt.tensor(f.qA!, [f.module.cols, f.module.cols])),
        qS: keep(rt.tensor(f.qS!, [f.module.dOut, f.module.dOut])),
      }));
    }
    if (o.strategy === "kfac") {
      for (const f of sets) {
        const { dOut, cols } = f.module;
        const lambda = new Float32Array(dOut * cols);
        for (let j = 0; j < dOut; j++) {
          for (let k = 0; k < cols; k++) lambda[j * cols + k] = f.eigS![j] * f.eigA![k];
        }
        f.lambda = lambda;
      }
      return result;
    }
    // Pass 2 (ekfac, diagonal): Λ = mean over sequences of G_b², G_b = s_bᵀ a_b, rotated into
    // the eigenbasis for EK-FAC.
    const lambdas = modules.map((m) => keep(rt.zeros([m.dOut * m.cols])));
    await pass(model, o, labels(1), scratch, async (i, rows, T, B) => {
      const m = modules[i];
      const r = o.strategy === "ekfac" ? await scratch.rotate(rows, m, bases[i]) : rows;
      const chunk = scratch.sequencesPerChunk(m);
      for (let from = 0; from < B; from += chunk) {
        const count = Math.min(chunk, B - from);
        await squareAccumulate(rt, await scratch.gradients(r, m, T, from, count), lambdas[i]);
      }
    }, progress("lambda"));
    result.sequences = total;
    const sums = await rt.read(lambdas);
    sets.forEach((f, i) => (f.lambda = sums[i].map((v) => v / total)));
    return result;
  } finally {
    for (const t of owned) t.dispose();
    scratch.dispose();
    model.dispose();
  }
}
