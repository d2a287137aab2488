// The GPU suite (issue 20, part 3): the few figures worth a lent GPU's minutes, in one run of
// under 8 minutes on a real adapter. `deno task bench --suite gpu [--json] [--peak-tflops N]`.
//
// - matmul at 1024³ and 4096³: GFLOP/s against the adapter's FP32 peak (a table of known cards
//   below, or --peak-tflops);
// - a GPT-2-124M training step (AdamW, random init): tokens/s, and effective GFLOP/s against the
//   matmul kernel alone at the MLP's shape;
// - EK-FAC factors of GPT-2-124M's MLP modules on 16 × 128 tokens;
// - a Simfluence-Linear fit (batched CG) at n = m = 1,000;
// - a rollout of 1,000 test examples over 1,000 steps.
//
// Every figure is measured on the WebGPU runtime (rows say backend "webgpu") and, as its baseline,
// the same work on the CPU backend (OpenBLAS sgemm + the kernels' TypeScript ports) in the same
// run: the same launchers, model, batch and request. The runtime the bench hands in may be either
// one (SIMFLUENCE_BACKEND=auto picks the CPU on a software adapter with OpenBLAS); the suite makes
// the other itself and closes it at the end. Without OpenBLAS there is no CPU backend: the
// baselines are then null and say why. EK-FAC's CPU baseline is pass 1 (the covariances) alone:
// its eigendecompositions are the same float64 CPU work on both, so the CPU fit is stopped, through
// its AbortSignal, as soon as pass 1 ends. On a software (fallback) adapter, or with --quick,
// every size shrinks so that the suite ends in a couple of minutes; each row then says "shrunk".
import { median, timeGpu } from "../src/gpu/autotune.ts";
import { matmul, tuneMatmul } from "../src/gpu/kernels/matmul.ts";
import type { DeviceDescription } from "../src/gpu/device.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Batch } from "../src/gpt2/batch.ts";
import { dimsOf, type Gpt2Config, parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { initParams, type ParamSet } from "../src/gpt2/params.ts";
import { fitFactors } from "../src/influence/factors/fit.ts";
import { linearAlgebra, linearAlgebraStatus } from "../src/linalg/select.ts";
import { type TrackedModule, trackedModules } from "../src/influence/modules.ts";
import type { Sequence } from "../src/influence/sequences.ts";
import { seededUniform } from "../src/random.ts";
import { buildDesign, meanRowNormSq } from "../src/simfluence/math/design.ts";
import { GpuRidgeSolver } from "../src/simfluence/math/kernels/solver.ts";
import { simulateGpu } from "../src/simfluence/math/kernels/simulate.ts";
import { randomModel } from "../src/simfluence/math/synthetic.ts";
import type { SimulatorParams } from "../src/simfluence/math/types.ts";
import { syntheticStudy } from "./simfluence.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

/** The baseline of every row measured on the CPU backend too. */
export const CPU_BASELINE = "CPU backend (OpenBLAS sgemm + TypeScript kernels), same run";

/** Begins the baseline of every such row where this machine has no CPU backend (no OpenBLAS). */
export const NO_CPU_BASELINE = "no CPU baseline: ";

/**
 * The EK-FAC seconds row's baseline: the CPU's whole fit would add its own eigendecompositions
 * (the same float64 work as the row's, up to EIGEN_BUDGET_SECONDS again) and pass 2 to the 8
 * minutes, so only its pass 1 is timed, as the covariance row's baseline.
 */
export const CPU_FIT_NOT_TIMED =
  "CPU backend's whole fit not timed (the same float64 eigendecompositions; its pass 1 is the " +
  "covariance row's baseline)";

/** The stable beginnings of the suite's row names (tests and README tables key on them). */
export const GPU_ROW_PREFIXES = [
  "gpu matmul ",
  "gpu train step ",
  "gpu EK-FAC factors ",
  "gpu simfluence fit ",
  "gpu rollout ",
] as const;

// ---- FP32 peak of known adapters ------------------------------------------------------------

export interface KnownPeak {
  name: string;
  /** Dense FP32 (non-tensor-core) TFLOP/s at boost clock. */
  tflops: number;
  source: string;
}

/**
 * Matched against the adapter's description (the driver's device name, e.g. "NVIDIA H100 80GB
 * HBM3"), then vendor and device; the first match wins, so variants come before the generic name.
 * PCI device ids (wgpu reports them as decimal strings) catch adapters with an empty name.
 */
const KNOWN_PEAKS: { match: RegExp; pciIds?: number[]; peak: KnownPeak }[] = [
  // NVIDIA H100 datasheet: FP32 67 TFLOPS (SXM), 51 (PCIe), 60 (NVL).
  {
    match: /H100.*PCIe/i,
    pciIds: [0x2331],
    peak: { name: "NVIDIA H100 PCIe", tflops: 51, source: "vendor spec sheet" },
  },
  {
    match: /H100.*NVL/i,
    peak: { name: "NVIDIA H100 NVL", tflops: 60, source: "vendor spec sheet" },
  },
  {
    match: /H100/i, // "H100 80GB HBM3", "H100 SXM5": the SXM part
    pciIds: [0x2330],
    peak: { name: "NVIDIA H100 SXM", tflops: 67, source: "vendor spec sheet" },
  },
  // NVIDIA H200 datasheet: FP32 67 TFLOPS (SXM), 60 (NVL).
  {
    match: /H200.*NVL/i,
    peak: { name: "NVIDIA H200 NVL", tflops: 60, source: "vendor spec sheet" },
  },
  {
    match: /H200/i,
    pciIds: [0x2335],
    peak: { name: "NVIDIA H200 SXM", tflops: 67, source: "vendor spec sheet" },
  },
  // NVIDIA A100 datasheet: FP32 19.5 TFLOPS (SXM and PCIe alike).
  {
    match: /A100/i,
    pciIds: [0x20b0, 0x20b2],
    peak: { name: "NVIDIA A100", tflops: 19.5, source: "vendor spec sheet" },
  },
  // NVIDIA L40S datasheet: FP32 91.6 TFLOPS; L4 datasheet: FP32 30.3 TFLOPS.
  { match: /L40S/i, peak: { name: "NVIDIA L40S", tflops: 91.6, source: "vendor spec sheet" } },
  {
    match: /\bL4\b/i,
    pciIds: [0x27b8],
    peak: { name: "NVIDIA L4", tflops: 30.3, source: "vendor spec sheet" },
  },
  // NVIDIA A10 datasheet: FP32 31.2 TFLOPS; T4 datasheet: FP32 8.1 TFLOPS.
  { match: /\bA10\b/i, peak: { name: "NVIDIA A10", tflops: 31.2, source: "vendor spec sheet" } },
  { match: /\bT4\b/i, peak: { name: "NVIDIA T4", tflops: 8.1, source: "vendor spec sheet" } },
  // GeForce RTX 4090 spec sheet: 82.6 shader TFLOPS; RTX 3090: 35.6.
  {
    match: /RTX 4090/i,
    pciIds: [0x2684],
    peak: { name: "NVIDIA GeForce RTX 4090", tflops: 82.6, source: "vendor spec sheet" },
  },
  {
    match: /RTX 3090/i,
    peak: { name: "NVIDIA GeForce RTX 3090", tflops: 35.6, source: "vendor spec sheet" },
  },
];

/** The FP32 peak of a known adapter, or null ("unknown peak"). */
export function knownPeak(
  adapter: Pick<DeviceDescription, "description" | "vendor" | "device">,
): KnownPeak | null {
  const text = `${adapter.description} ${adapter.vendor} ${adapter.device}`;
  const pci = Number.parseInt(adapter.device, adapter.device.startsWith("0x") ? 16 : 10);
  for (const { match, peak } of KNOWN_PEAKS) {
    if (match.test(text)) return peak;
  }
  for (const { pciIds, peak } of KNOWN_PEAKS) {
    if (pciIds?.includes(pci)) return peak;
  }
  return null;
}

function peakOf(rt: GpuRuntime, flag: number | undefined): KnownPeak | null {
  if (flag !== undefined) return { name: "given", tflops: flag, source: "--peak-tflops" };
  return knownPeak(rt.gpu.describe());
}

// ---- sizes ------------------------------------------------------------------------------------

interface Sizes {
  shrunk: boolean;
  matmul: number[];
  /** FLOPs per timed run of back-to-back products: enough to hide the one sync at its end. */
  flopsPerRun: number;
  /** reps: timed steps on WebGPU; cpuReps: on the CPU backend (seconds each at 124M). */
  train: {
    config: Gpt2Config;
    label: string;
    B: number;
    T: number;
    reps: number;
    cpuReps: number;
  };
  factors: { sequences: number };
  fit: { n: number; m: number; runs: number; steps: number };
  rollout: { n: number; m: number; steps: number; reps: number };
}

const GPT2_124M = { vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12 };

export function gpuSizes(shrunk: boolean): Sizes {
  if (!shrunk) {
    return {
      shrunk,
      matmul: [1024, 4096],
      flopsPerRun: 2e10,
      train: {
        config: parseGpt2Config(GPT2_124M),
        label: "GPT-2-124M",
        B: 8,
        T: 128,
        reps: 5,
        cpuReps: 2,
      },
      factors: { sequences: 16 },
      fit: { n: 1000, m: 1000, runs: 32, steps: 100 },
      rollout: { n: 1000, m: 1000, steps: 1000, reps: 5 },
    };
  }
  // Software adapter: seconds, not minutes, on two shared cores.
  const config = parseGpt2Config({
    vocab_size: 257,
    n_positions: 64,
    n_embd: 64,
    n_layer: 2,
    n_head: 2,
  });
  return {
    shrunk,
    matmul: [256, 512],
    flopsPerRun: 1e8,
    train: { config, label: "GPT-2 L=2 d=64 V=257", B: 4, T: 32, reps: 2, cpuReps: 2 },
    factors: { sequences: 8 },
    fit: { n: 100, m: 100, runs: 8, steps: 50 },
    rollout: { n: 200, m: 200, steps: 200, reps: 3 },
  };
}

/** Begins the notes of every row measured at shrunk sizes. */
const SHRUNK_NOTE = "shrunk: software adapter or --quick; ";

// ---- the two runtimes ---------------------------------------------------------------------------

/** The WebGPU runtime every figure is measured on, and the CPU backend for its baseline. */
interface Runtimes {
  gpu: GpuRuntime;
  /** Null where this machine has no CPU backend (OpenBLAS did not open). */
  cpu: GpuRuntime | null;
  /** Why `cpu` is null, as a baseline name (NO_CPU_BASELINE + reason). */
  noCpu: string;
}

/** A baseline row's fields from the CPU's figure, or null (with why) where there is no CPU. */
function cpuBaseline(
  runtimes: Runtimes,
  value: number,
  cpu: number | null,
  kind: "rate" | "time",
): Pick<BenchFigure, "baselineName" | "baseline" | "speedup"> {
  if (cpu === null) return { baselineName: runtimes.noCpu, baseline: null, speedup: null };
  return {
    baselineName: CPU_BASELINE,
    baseline: cpu,
    speedup: kind === "rate" ? value / cpu : cpu / value,
  };
}

// ---- matmul -----------------------------------------------------------------------------------

function values(n: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length: n }, () => next() - 0.5);
}

/**
 * GFLOP/s of our matmul at [M, K]·[K, N], enough dispatches per timed run to hide the sync. On
 * the CPU backend the same launcher runs OpenBLAS's sgemm.
 */
async function gpuMatmulRate(
  rt: GpuRuntime,
  [M, K, N]: [number, number, number],
  reps: number,
  flopsPerRun: number,
) {
  const a = rt.tensor(values(M * K, 1), [M, K]);
  const b = rt.tensor(values(K * N, 2), [K, N]);
  const out = rt.zeros([M, N]);
  const flops = 2 * M * K * N;
  const perRun = Math.max(1, Math.ceil(flopsPerRun / flops));
  try {
    const ms = await timeGpu(rt, async () => {
      for (let i = 0; i < perRun; i++) await matmul(rt, a, b, out);
    }, { warmup: 1, reps });
    return { gflops: perRun * flops / ms / 1e6, msEach: ms / perRun, perRun };
  } finally {
    for (const t of [a, b, out]) t.dispose();
  }
}

async function matmulFigures(
  runtimes: Runtimes,
  sizes: Sizes,
  peak: KnownPeak | null,
): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  for (const n of sizes.matmul) {
    const label = `gpu matmul ${n}x${n}x${n} f32`;
    const reps = sizes.shrunk ? 3 : 7;
    const gpu = await gpuMatmulRate(runtimes.gpu, [n, n, n], reps, sizes.flopsPerRun);
    const timing = `median of ${reps} runs of ${gpu.perRun} products (${
      gpu.msEach.toFixed(2)
    } ms each)`;
    const peakGflops = peak ? peak.tflops * 1000 : null;
    figures.push({
      name: `${label} vs FP32 peak`,
      unit: "GFLOP/s",
      value: gpu.gflops,
      baselineName: peak
        ? `FP32 peak, ${peak.name} ${peak.tflops} TFLOP/s (${peak.source})`
        : "unknown peak (not in bench/gpu.ts's table; pass --peak-tflops N)",
      baseline: peakGflops,
      speedup: peakGflops ? gpu.gflops / peakGflops : null,
      target: n >= 4096 ? ">= 0.5x (50% of FP32 peak)" : undefined,
      notes: `${timing}${
        peakGflops ? `; ${(100 * gpu.gflops / peakGflops).toFixed(1)}% of peak` : ""
      }`,
    });
    const cpuReps = 3;
    const cpu = runtimes.cpu
      ? await gpuMatmulRate(runtimes.cpu, [n, n, n], cpuReps, sizes.flopsPerRun)
      : null;
    figures.push({
      name: `${label} vs CPU`,
      unit: "GFLOP/s",
      value: gpu.gflops,
      ...cpuBaseline(runtimes, gpu.gflops, cpu?.gflops ?? null, "rate"),
      notes: `${timing}${
        cpu
          ? `; baseline: the same launcher's sgemm, median of ${cpuReps} runs of ${cpu.perRun} ` +
            `(${cpu.msEach.toFixed(2)} ms each)`
          : ""
      }`,
    });
  }
  return figures;
}

// ---- GPT-2 training step and EK-FAC factors ----------------------------------------------------

function randomBatch(seed: number, B: number, T: number, V: number): Batch {
  const next = seededUniform(seed);
  return { B, T, tokens: Array.from({ length: B * T }, () => Math.floor(next() * V)) };
}

/** Median seconds of `reps` AdamW steps on `rt`, after `warmups` untimed ones (compile, allocate). */
async function stepSeconds(
  rt: GpuRuntime,
  params: ParamSet,
  batch: Batch,
  warmups: number,
  reps: number,
) {
  const t0 = performance.now();
  const model = Gpt2Model.create(rt, params);
  const optimizer = model.createOptimizer({ kind: "adamw", lr: 1e-4 });
  const times: number[] = [];
  let loss = NaN;
  let setupSeconds = 0;
  try {
    for (let i = 0; i < warmups; i++) {
      const step = await model.trainStep(batch, optimizer);
      if (i === 0) loss = step.loss;
    }
    setupSeconds = (performance.now() - t0) / 1000;
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await model.trainStep(batch, optimizer); // ends in a readback: the step has finished
      times.push((performance.now() - t) / 1000);
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  return { seconds: median(times), loss, setupSeconds };
}

async function trainFigures(
  runtimes: Runtimes,
  sizes: Sizes,
  params: ParamSet,
  peak: KnownPeak | null,
): Promise<BenchFigure[]> {
  const { config, label, B, T, reps, cpuReps } = sizes.train;
  const { d, f, L, V } = dimsOf(config);
  const tokens = B * T;
  // "6N + attention": 3 × forward, forward = matmuls + tied head + causal attention.
  const forwardFlops = 2 * (4 * d * d + 2 * d * f) * L + 2 * d * V + 2 * T * d * L;
  const stepFlops = 3 * forwardFlops * tokens;
  const batch = randomBatch(2, B, T, V);
  const gpu = await stepSeconds(runtimes.gpu, params, batch, sizes.shrunk ? 1 : 2, reps);
  const { seconds, loss } = gpu;
  const gflops = stepFlops / seconds / 1e9;
  const mlp = await gpuMatmulRate(
    runtimes.gpu,
    [tokens, d, f],
    sizes.shrunk ? 3 : 5,
    sizes.flopsPerRun,
  );
  // The same model, batch and optimizer from the same initial parameters; one warm-up step.
  const cpu = runtimes.cpu ? await stepSeconds(runtimes.cpu, params, batch, 1, cpuReps) : null;
  const name = `gpu train step ${label} AdamW B=${B} T=${T}`;
  const notes = `random init; median of ${reps} steps, ${seconds.toFixed(3)} s/step; ${
    (stepFlops / 1e9).toFixed(1)
  } GFLOP per step (3 × forward); first loss ${loss.toFixed(3)} (ln V = ${
    Math.log(V).toFixed(3)
  }); model upload + warm-up steps ${gpu.setupSeconds.toFixed(1)} s${
    peak ? `; ${(100 * gflops / (peak.tflops * 1000)).toFixed(1)}% of FP32 peak` : ""
  }${
    cpu
      ? `; baseline: median of ${cpuReps} CPU steps, ${cpu.seconds.toFixed(3)} s/step, first ` +
        `loss ${cpu.loss.toFixed(3)}`
      : ""
  }`;
  return [
    {
      name: `${name}: tokens/s`,
      unit: "tokens/s",
      value: tokens / seconds,
      ...cpuBaseline(runtimes, tokens / seconds, cpu ? tokens / cpu.seconds : null, "rate"),
      notes,
    },
    {
      name: `${name}: effective GFLOP/s vs matmul`,
      unit: "GFLOP/s",
      value: gflops,
      baselineName: `matmul alone at the MLP's ${tokens}x${d}x${f}, same run`,
      baseline: mlp.gflops,
      speedup: gflops / mlp.gflops,
      target: ">= 0.5x",
      notes: "the whole step (every kernel, clipping, AdamW, dispatch) against one matmul",
    },
  ];
}

function sequences(n: number, T: number, V: number, seed: number): Sequence[] {
  const next = seededUniform(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    tokens: Array.from({ length: T }, () => Math.floor(next() * V)),
    lossMask: Array.from({ length: T }, () => 1),
  }));
}

/** Seconds of the CPU's float64 eigendecompositions that the suite allows (8 minutes in all). */
const EIGEN_BUDGET_SECONDS = 150;

/**
 * Evenly spaced layers whose MLP modules' eigendecompositions (on the CPU, float64, O(n³): at
 * GPT-2-124M two of n ≈ 3,072 and two of n ≈ 768 per layer) fit EIGEN_BUDGET_SECONDS, estimated
 * from one timed eigendecomposition at 768. Every layer when they fit (a fast LAPACK, a fast CPU).
 */
export function layersWithinEigenBudget(modules: readonly TrackedModule[], L: number) {
  const probe = 768;
  const next = seededUniform(6);
  const a = new Float64Array(probe * probe);
  for (let i = 0; i < probe; i++) {
    for (let j = 0; j <= i; j++) a[i * probe + j] = a[j * probe + i] = next() - 0.5;
  }
  const t = performance.now();
  linearAlgebra().symmetricEigen(a, probe); // what fitFactors uses: LAPACK where it opens
  const probeSeconds = (performance.now() - t) / 1000;
  const cubes = modules.reduce((sum, m) => sum + m.cols ** 3 + m.dOut ** 3, 0);
  const allSeconds = probeSeconds * cubes / probe ** 3;
  const k = Math.max(1, Math.min(L, Math.floor(L * EIGEN_BUDGET_SECONDS / allSeconds)));
  const layers = k === 1
    ? [L - 1]
    : Array.from({ length: k }, (_, i) => Math.round((i * (L - 1)) / (k - 1)));
  const budget = k === L
    ? ""
    : `; ${k} of ${L} layers: all ${L} would spend ~${
      allSeconds.toFixed(0)
    } s in eigendecompositions (estimated from one at n=${probe}, ${
      probeSeconds.toFixed(2)
    } s), over this suite's ${EIGEN_BUDGET_SECONDS} s for them`;
  return { layers: [...new Set(layers)], budget };
}

/**
 * Seconds of fitFactors' pass 1 (covariances) on `rt`: the fit is aborted through its signal once
 * the pass's last batch reports, so the next abort check (before the first eigendecomposition)
 * ends it; the fit's finally frees what it made. The time includes model upload and the
 * covariances' readback, as the GPU's pass-1 time does.
 */
async function covariancePassSeconds(
  rt: GpuRuntime,
  params: ParamSet,
  sequences: readonly Sequence[],
  modules: readonly TrackedModule[],
): Promise<number> {
  const stop = new AbortController();
  const t0 = performance.now();
  try {
    await fitFactors({
      runtime: rt,
      params,
      sequences,
      modules,
      batchSize: 8,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.pass === "covariances" && p.done === p.total) stop.abort();
      },
    });
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  }
  if (!stop.signal.aborted) throw new Error("the CPU fit ended without finishing pass 1");
  return (performance.now() - t0) / 1000;
}

async function factorFigures(
  runtimes: Runtimes,
  sizes: Sizes,
  params: ParamSet,
): Promise<BenchFigure[]> {
  const { label, T } = sizes.train;
  const n = sizes.factors.sequences;
  const train = sequences(n, T, params.config.vocab_size, 1);
  const all = trackedModules(params.config, "mlp");
  const { layers, budget } = sizes.shrunk
    ? { layers: Array.from({ length: params.config.n_layer }, (_, l) => l), budget: "" }
    : layersWithinEigenBudget(all, params.config.n_layer);
  const modules = all.filter((m) => layers.includes(Number(m.name.split(".")[1])));
  // The first eigendecomposition's progress event ends pass 1 (covariances, on the GPU); the
  // eigendecompositions (CPU, float64) and pass 2 (eigenvalue correction, GPU) follow, with no
  // event between them.
  let eigenStart: number | null = null;
  const t0 = performance.now();
  await fitFactors({
    runtime: runtimes.gpu,
    params,
    sequences: train,
    modules,
    batchSize: 8,
    onProgress: (p) => {
      if (p.pass === "eigendecomposition") eigenStart ??= performance.now();
    },
  });
  const end = performance.now();
  const pass1 = ((eigenStart ?? end) - t0) / 1000;
  const cpuPass1 = runtimes.cpu
    ? await covariancePassSeconds(runtimes.cpu, params, train, modules)
    : null;
  const tokens = n * T;
  const scope = layers.length === params.config.n_layer
    ? `mlp (${modules.length} modules)`
    : `mlp of layers ${layers.join(",")} (${modules.length} of ${all.length} modules)`;
  const name = `gpu EK-FAC factors ${label} ${scope}, ${n} x ${T} tokens`;
  const split = `pass 1 (covariances, GPU) ${pass1.toFixed(1)} s, then the float64 ` +
    `eigendecompositions (CPU) and pass 2 (eigenvalue correction, GPU) ${
      ((end - (eigenStart ?? end)) / 1000).toFixed(1)
    } s; one sample, model upload and pipeline compilation included`;
  return [
    {
      name: `${name}: seconds`,
      unit: "s",
      value: (end - t0) / 1000,
      baselineName: runtimes.cpu ? CPU_FIT_NOT_TIMED : runtimes.noCpu,
      baseline: null,
      speedup: null,
      notes: split + budget,
    },
    {
      name: `${name}: covariance pass tokens/s`,
      unit: "tokens/s",
      value: tokens / pass1,
      ...cpuBaseline(runtimes, tokens / pass1, cpuPass1 ? tokens / cpuPass1 : null, "rate"),
      notes: "pass 1 alone (forward, backward with taps, A and S accumulated), model upload and " +
        `pipeline compilation included${
          cpuPass1 === null
            ? ""
            : `; baseline: the CPU backend's pass 1 on the same sequences and modules, ${
              cpuPass1.toFixed(1)
            } s, the fit stopped there`
        }`,
    },
  ];
}

// ---- Simfluence fit and rollout -----------------------------------------------------------------

const LAMBDA_FACTOR = 1e-2;
const TOL = 1e-5;

async function fitFigure(runtimes: Runtimes, sizes: Sizes): Promise<BenchFigure> {
  const { n, m, runs: runCount, steps } = sizes.fit;
  const batch = 8;
  const { runs } = syntheticStudy(n, m, runCount, steps);
  const design = buildDesign(runs, n, m);
  const lambda = meanRowNormSq(design, "linear").map((v) => LAMBDA_FACTOR * v);
  const solveOnce = async (rt: GpuRuntime) => {
    const t = performance.now();
    const solver = GpuRidgeSolver.create(rt, design);
    try {
      const report = await solver.solve("linear", lambda, { tol: TOL, maxIterations: 1000 });
      await solver.readTheta();
      return { seconds: (performance.now() - t) / 1000, report };
    } finally {
      solver.dispose();
    }
  };
  const timed = async (rt: GpuRuntime, count: number) => {
    await solveOnce(rt); // compile (WebGPU), JIT warm-up (CPU)
    const samples = [];
    for (let i = 0; i < count; i++) samples.push(await solveOnce(rt));
    return { seconds: median(samples.map((s) => s.seconds)), samples };
  };
  const gpu = await timed(runtimes.gpu, sizes.shrunk ? 1 : 3);
  const iterations = Array.from(gpu.samples[0].report.iterations);
  const cpu = runtimes.cpu ? await timed(runtimes.cpu, 1) : null;
  const cpuIterations = cpu ? Array.from(cpu.samples[0].report.iterations) : [];
  return {
    name: `gpu simfluence fit linear n=${n} m=${m} ${runCount}x${steps} steps batch ${batch}`,
    unit: "s",
    value: gpu.seconds,
    ...cpuBaseline(runtimes, gpu.seconds, cpu?.seconds ?? null, "time"),
    notes:
      `λ factor ${LAMBDA_FACTOR}, tol ${TOL}; median of ${gpu.samples.length} (upload, batched CG for every test example, θ readback); CG iterations max ${
        Math.max(...iterations)
      }, converged ${gpu.samples[0].report.converged}/${m}${
        cpu
          ? `; baseline: the same solver on the CPU backend, 1 run after a warm-up, CG ` +
            `iterations max ${Math.max(...cpuIterations)}, converged ${
              cpu.samples[0].report.converged
            }/${m}`
          : ""
      }`,
  };
}

async function rolloutFigure(runtimes: Runtimes, sizes: Sizes): Promise<BenchFigure> {
  const { n, m, steps, reps } = sizes.rollout;
  const batchSize = 8;
  const model = randomModel(3, {
    n,
    m,
    aMean: -0.002,
    aSpread: 0.001,
    bMean: 0.002,
    bSpread: 0.001,
  });
  const sim: SimulatorParams = {
    kind: "linear",
    n,
    m,
    A: model.A,
    B: model.B,
    unseen: [],
    meanLoss: new Float32Array(m).fill(2),
    lambdaFactor: LAMBDA_FACTOR,
    scoreScale: null,
  };
  const next = seededUniform(4);
  const batches = Array.from({ length: steps }, () => {
    const batch = new Set<number>();
    while (batch.size < batchSize) batch.add(Math.floor(next() * n));
    return [...batch];
  });
  const initial = new Float32Array(m).fill(2);
  const request = { batches, initialLosses: initial };
  const options = { chunkSteps: 32 };
  const { gpu, cpu } = runtimes;
  await simulateGpu(gpu, sim, request, options); // compile
  if (cpu) await simulateGpu(cpu, sim, request, options); // JIT warm-up
  const gpuTimes: number[] = [];
  const cpuTimes: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    let t = performance.now();
    await simulateGpu(gpu, sim, request, options);
    gpuTimes.push((performance.now() - t) / 1000);
    if (!cpu) continue;
    t = performance.now();
    await simulateGpu(cpu, sim, request, options);
    cpuTimes.push((performance.now() - t) / 1000);
  }
  const work = m * steps;
  return {
    name: `gpu rollout ${m} test examples x ${steps} steps (n=${n}, batch ${batchSize})`,
    unit: "test-example-steps/s",
    value: work / median(gpuTimes),
    ...cpuBaseline(
      runtimes,
      work / median(gpuTimes),
      cpu ? work / median(cpuTimes) : null,
      "rate",
    ),
    notes: `median of ${reps}; GPU ${
      median(gpuTimes).toFixed(3)
    } s including θ upload and one readback per 32-step chunk${
      cpu
        ? `; baseline: the same simulateGpu request on the CPU backend, ${
          median(cpuTimes).toFixed(3)
        } s`
        : ""
    }`,
  };
}

// ---- the suite ----------------------------------------------------------------------------------

/** Runs one section; a failure becomes a row saying so, and the suite goes on to the next. */
async function section(
  name: string,
  log: (line: string) => void,
  run: () => Promise<BenchFigure[]>,
): Promise<BenchFigure[]> {
  const t = performance.now();
  try {
    const figures = await run();
    log(`gpu suite: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    for (const f of figures) {
      const baseline = f.baseline === null ? "" : ` (baseline ${f.baseline.toPrecision(4)})`;
      log(`  ${f.name}: ${f.value.toPrecision(4)} ${f.unit}${baseline}`);
    }
    return figures;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log(`gpu suite: ${name} FAILED after ${((performance.now() - t) / 1000).toFixed(1)} s`);
    return [{
      name: `${name}: failed`,
      unit: "-",
      value: NaN,
      baselineName: null,
      baseline: null,
      speedup: null,
      notes: message.slice(0, 500),
    }];
  }
}

/**
 * The WebGPU runtime and the CPU backend beside it: `rt` is one of them, the other is made here
 * (and listed in `created`, to close at the end). No CPU backend where OpenBLAS does not open.
 */
async function runtimesFor(rt: GpuRuntime, created: GpuRuntime[]): Promise<Runtimes> {
  const make = async (backend: "webgpu" | "cpu") => {
    const made = await GpuRuntime.create({ backend });
    created.push(made);
    return made;
  };
  const gpu = rt.isHost ? await make("webgpu") : rt;
  if (rt.isHost) return { gpu, cpu: rt, noCpu: "" };
  const blas = linearAlgebraStatus();
  if (blas.backend !== "openblas") {
    return {
      gpu,
      cpu: null,
      noCpu: `${NO_CPU_BASELINE}the CPU backend needs OpenBLAS (${
        blas.unavailableReason ?? "not opened"
      }; ${blas.install})`,
    };
  }
  try {
    return { gpu, cpu: await make("cpu"), noCpu: "" };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { gpu, cpu: null, noCpu: `${NO_CPU_BASELINE}${message.slice(0, 200)}` };
  }
}

export const gpuSuite: BenchSuite = {
  name: "gpu",
  onlyWhenNamed: true,
  async run(rt, { quick, peakTflops }) {
    // Progress goes to stderr, so that --json's stdout stays one document and a run cut short
    // by a time limit still leaves its finished rows in the log.
    const log = (line: string) =>
      console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
    const created: GpuRuntime[] = [];
    try {
      const runtimes = await runtimesFor(rt, created);
      return await runSuite(runtimes, { quick, peakTflops }, log);
    } finally {
      for (const made of created) made.close();
    }
  },
};

async function runSuite(
  runtimes: Runtimes,
  { quick, peakTflops }: { quick: boolean; peakTflops?: number },
  log: (line: string) => void,
): Promise<BenchFigure[]> {
  const rt = runtimes.gpu;
  const adapter = rt.gpu.describe();
  const shrunk = quick || adapter.isFallbackAdapter;
  const sizes = gpuSizes(shrunk);
  const peak = peakOf(rt, peakTflops);
  log(
    `gpu suite on ${adapter.description || adapter.vendor || "an unnamed adapter"}: ${
      peak ? `FP32 peak ${peak.tflops} TFLOP/s (${peak.name}, ${peak.source})` : "unknown peak"
    }; baselines: ${runtimes.cpu ? CPU_BASELINE : runtimes.noCpu}`,
  );
  if (shrunk) {
    log(
      `gpu suite: sizes SHRUNK (${
        adapter.isFallbackAdapter ? "software fallback adapter" : "--quick"
      }): matmul ${sizes.matmul.join("³, ")}³, ${sizes.train.label}, fit n=m=${sizes.fit.n}, ` +
        `rollout ${sizes.rollout.m} x ${sizes.rollout.steps}; these are not the GPU figures`,
    );
  } else {
    // A real adapter: tune the matmul once (cached per adapter), as the service does.
    await tuneMatmul(rt, { cacheFile: "bench/results/tune-cache.json" });
  }
  const figures: BenchFigure[] = [];
  figures.push(...await section("gpu matmul", log, () => matmulFigures(runtimes, sizes, peak)));
  const t = performance.now();
  const params = initParams(sizes.train.config, 1);
  log(
    `gpu suite: ${sizes.train.label} initialised in ${
      ((performance.now() - t) / 1000).toFixed(1)
    } s`,
  );
  figures.push(
    ...await section("gpu train step", log, () => trainFigures(runtimes, sizes, params, peak)),
  );
  figures.push(
    ...await section("gpu EK-FAC factors", log, () => factorFigures(runtimes, sizes, params)),
  );
  figures.push(
    ...await section("gpu simfluence fit", log, async () => [await fitFigure(runtimes, sizes)]),
  );
  figures.push(
    ...await section("gpu rollout", log, async () => [await rolloutFigure(runtimes, sizes)]),
  );
  for (const f of figures) {
    // Measured on WebGPU, whichever runtime the bench handed in; baselines on the CPU backend.
    f.backend = "webgpu";
    if (shrunk) f.notes = SHRUNK_NOTE + (f.notes ?? "");
  }
  return figures;
}
