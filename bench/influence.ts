// Influence functions: EK-FAC factor fitting next to a training step on the same model (tokens/s),
// pairwise scores for 16 queries at full rank and rank 32 (training examples/s), peak GPU memory
// while scoring 256 vs 1,024 training examples (it must not grow with N), the float64
// eigendecomposition at GPT-2-124M's MLP width, and GPT-2-124M factors and scores end to end.
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { median } from "../src/gpu/autotune.ts";
import { parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { initParams, type ParamSet } from "../src/gpt2/params.ts";
import { eigh } from "../src/influence/eigh.ts";
import { fitFactors } from "../src/influence/factors/fit.ts";
import { trackedModules } from "../src/influence/modules.ts";
import { computeScores } from "../src/influence/scores/engine.ts";
import type { Sequence } from "../src/influence/sequences.ts";
import { seededUniform } from "../src/random.ts";
import { buildBatch } from "../src/training/encode.ts";
import { computeTracin, type TracinParameters } from "../src/tracin/engine.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

interface Shape {
  L: number;
  d: number;
  T: number;
  B: number;
  V: number;
}

function modelOf(shape: Shape): ParamSet {
  const config = parseGpt2Config({
    vocab_size: shape.V,
    n_positions: Math.max(shape.T, 64),
    n_embd: shape.d,
    n_layer: shape.L,
    n_head: Math.max(2, shape.d / 64),
  });
  return initParams(config, 1);
}

/** n random full-length sequences, every token after the first a label. */
export function sequences(
  prefix: string,
  n: number,
  T: number,
  V: number,
  seed: number,
): Sequence[] {
  const next = seededUniform(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    tokens: Array.from({ length: T }, () => Math.floor(next() * V)),
    lossMask: Array.from({ length: T }, () => 1),
  }));
}

const label = (s: Shape) => `L=${s.L} d=${s.d} T=${s.T} B=${s.B}`;

/** Training tokens/s of plain train steps on batches of the same shape (median of `runs`). */
async function trainTokensPerSecond(rt: GpuRuntime, params: ParamSet, shape: Shape, runs: number) {
  const model = Gpt2Model.create(rt, params);
  const optimizer = model.createOptimizer({ kind: "adamw", lr: 1e-4 });
  try {
    const batch = buildBatch(sequences("s", shape.B, shape.T, shape.V, 9));
    await model.trainStep(batch, optimizer);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await model.trainStep(batch, optimizer);
      times.push((performance.now() - t) / 1000);
    }
    return (shape.B * shape.T) / median(times);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function factorFigures(rt: GpuRuntime, shape: Shape, quick: boolean) {
  const params = modelOf(shape);
  const n = quick ? 16 : 64;
  const train = sequences("t", n, shape.T, shape.V, 1);
  const modules = trackedModules(params.config, "mlp");
  const fit = () =>
    fitFactors({ runtime: rt, params, sequences: train, modules, batchSize: shape.B });
  await fit(); // compile
  const times: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const t = performance.now();
    await fit();
    times.push((performance.now() - t) / 1000);
  }
  const fitRate = (n * shape.T) / median(times);
  const trainRate = await trainTokensPerSecond(rt, params, shape, quick ? 2 : 5);
  return {
    name: `EK-FAC factors (mlp, true Fisher) ${label(shape)}, ${n} sequences: tokens/s`,
    unit: "tokens/s",
    value: fitRate,
    baselineName: "a training step (AdamW) on the same model and batch shape",
    baseline: trainRate,
    speedup: fitRate / trainRate,
    target: ">= 0.33x (at most 3 training steps' worth per token)",
    notes: "two passes (covariances; eigenvalue correction) with sampled labels, plus the " +
      "float64 eigendecompositions",
  } satisfies BenchFigure;
}

async function scoreFigures(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const shape: Shape = { L: 2, d: 64, T: 64, B: 8, V: 257 };
  const params = modelOf(shape);
  const modules = trackedModules(params.config, "mlp");
  const fitOn = sequences("t", 64, shape.T, shape.V, 1);
  const factors = await fitFactors({ runtime: rt, params, sequences: fitOn, modules });
  const queries = sequences("q", 16, shape.T, shape.V, 2);
  const score = async (m: number, queryRank: number | null) => {
    const train = sequences("t", m, shape.T, shape.V, 3);
    rt.resetPeakBytes();
    const before = rt.liveBytes;
    const t = performance.now();
    await computeScores({ runtime: rt, params, factors, train, queries, queryRank });
    return { seconds: (performance.now() - t) / 1000, peak: rt.peakBytes - before };
  };
  const m = quick ? 64 : 256;
  await score(16, null); // compile
  await score(16, 32);
  const fullRuns: number[] = [], lowRuns: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    fullRuns.push(m / (await score(m, null)).seconds);
    lowRuns.push(m / (await score(m, 32)).seconds);
  }
  const small = await score(256, null);
  const large = await score(quick ? 512 : 1024, null);
  const mib = (b: number) => b / 2 ** 20;
  return [
    {
      name: `pairwise scores, 16 queries, full rank (${label(shape)}, ${m} training examples)`,
      unit: "examples/s",
      value: median(fullRuns),
      baselineName: null,
      baseline: null,
      speedup: null,
    },
    {
      name: `pairwise scores, 16 queries, rank 32 (${label(shape)}, ${m} training examples)`,
      unit: "examples/s",
      value: median(lowRuns),
      baselineName: "full rank (above)",
      baseline: median(fullRuns),
      speedup: median(lowRuns) / median(fullRuns),
    },
    {
      name: `peak GPU memory scoring ${quick ? 512 : 1024} training examples (16 queries)`,
      unit: "MiB",
      value: mib(large.peak),
      baselineName: "the same with 256 training examples",
      baseline: mib(small.peak),
      speedup: small.peak / large.peak,
      target: "1.0x (does not grow with the number of training examples)",
    },
  ];
}

/**
 * TracIn-CP throughput (training examples/s) over 2 checkpoints and 16 queries: every parameter
 * exactly, and the linear layers through Kronecker projections at k = 1,024 and 8,192; the
 * baseline is the same exact scores restricted to the linear layers (identity influence).
 */
async function tracinFigures(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const shape: Shape = { L: 2, d: 64, T: 64, B: 8, V: 257 };
  const params = modelOf(shape);
  const checkpoints = [1, 2].map((step) => ({
    step,
    lr: 1e-3 / step,
    params: () => Promise.resolve(params),
  }));
  const queries = sequences("q", 16, shape.T, shape.V, 2);
  const m = quick ? 32 : 128;
  const train = sequences("t", m, shape.T, shape.V, 3);
  const rate = async (
    parameters: TracinParameters,
    projection: { kind: "kronecker"; dim: number; seed: number } | null,
  ) => {
    const run = () =>
      computeTracin({ runtime: rt, checkpoints, parameters, train, queries, projection });
    await computeTracin({
      runtime: rt,
      checkpoints,
      parameters,
      train: train.slice(0, 8),
      queries,
      projection,
    });
    const t = performance.now();
    await run();
    return m / ((performance.now() - t) / 1000);
  };
  const linear = await rate("linear", null);
  const figures: BenchFigure[] = [{
    name: `TracIn-CP, all parameters, 2 checkpoints, 16 queries (${label(shape)})`,
    unit: "examples/s",
    value: await rate("all", null),
    baselineName: "the linear layers only (identity influence per checkpoint)",
    baseline: linear,
    speedup: null,
  }];
  for (const k of [1024, 8192]) {
    const value = await rate("linear", { kind: "kronecker", dim: k, seed: 0 });
    figures.push({
      name: `TracIn-CP, linear layers, Kronecker projection k=${k} (${label(shape)})`,
      unit: "examples/s",
      value,
      baselineName: "exact gradients of the same layers",
      baseline: linear,
      speedup: value / linear,
    });
  }
  return figures;
}

/** eigh at n against an n³ float64 matrix product in plain TypeScript (the same work class). */
function eighFigure(quick: boolean): BenchFigure {
  const n = quick ? 768 : 3072;
  const next = seededUniform(5);
  const x = Float64Array.from({ length: n * n }, () => next() - 0.5);
  const a = new Float64Array(n * n);
  const t0 = performance.now();
  // a = xᵀx (symmetric PSD, like a covariance): n³ multiply-adds, the i-k-j loop.
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      const xi = x[k * n + i];
      const row = i * n;
      for (let j = 0; j < n; j++) a[row + j] += xi * x[k * n + j];
    }
  }
  const product = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  eigh(a, n);
  const seconds = (performance.now() - t1) / 1000;
  return {
    name: `float64 eigendecomposition ${n}x${n} (eigenvalues and vectors, CPU)`,
    unit: "s",
    value: seconds,
    baselineName: `one ${n}x${n}x${n} float64 matrix product in plain TypeScript`,
    baseline: product,
    speedup: product / seconds,
  };
}

/** GPT-2-124M, MLP modules, 64 sequences × 128 tokens: factors, then 8 queries' scores. */
async function gpt2SmallFigures(rt: GpuRuntime): Promise<BenchFigure[]> {
  const shape: Shape = { L: 12, d: 768, T: 128, B: 8, V: 50257 };
  const params = modelOf(shape);
  const modules = trackedModules(params.config, "mlp");
  const train = sequences("t", 64, shape.T, shape.V, 1);
  // 8 queries: 16 queries' preconditioned gradients of one MLP layer (16 × 768 × 3,072 floats)
  // exceed a 128 MiB binding (llvmpipe, and the CPU backend's limits), which the engine refuses.
  const queries = sequences("q", 8, shape.T, shape.V, 2);
  // Tens of minutes on a CPU adapter: say how far it got, on stderr.
  const progress = (what: string) => (p: { done: number; total: number }) =>
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${what} ${p.done}/${p.total}`);
  const t0 = performance.now();
  const factors = await fitFactors({
    runtime: rt,
    params,
    sequences: train,
    modules,
    onProgress: (p) => progress(`factors ${p.pass}`)(p),
  });
  const fitSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await computeScores({
    runtime: rt,
    params,
    factors,
    train,
    queries,
    queryRank: 32,
    onProgress: (p) => progress(`scores ${p.phase}`)(p),
  });
  const scoreSeconds = (performance.now() - t1) / 1000;
  return [
    {
      name: "GPT-2-124M EK-FAC factors, mlp, 64 x 128 tokens",
      unit: "s",
      value: fitSeconds,
      baselineName: null,
      baseline: null,
      speedup: null,
    },
    {
      name:
        `GPT-2-124M pairwise scores, ${queries.length} queries (rank 32) x 64 training sequences`,
      unit: "s",
      value: scoreSeconds,
      baselineName: null,
      baseline: null,
      speedup: null,
    },
  ];
}

export const influenceSuite: BenchSuite = {
  name: "influence",
  async run(rt, { quick }) {
    const figures: BenchFigure[] = [];
    for (
      const shape of [{ L: 2, d: 64, T: 64, B: 8, V: 257 }, { L: 4, d: 128, T: 128, B: 8, V: 257 }]
    ) {
      figures.push(await factorFigures(rt, shape, quick));
    }
    figures.push(...await scoreFigures(rt, quick));
    figures.push(...await tracinFigures(rt, quick));
    figures.push(eighFigure(quick));
    return figures;
  },
};

/** Long on a CPU adapter (tens of minutes): its own suite, run with --suite influence-124m. */
export const influence124mSuite: BenchSuite = {
  name: "influence-124m",
  onlyWhenNamed: true,
  run: (rt) => gpt2SmallFigures(rt),
};
