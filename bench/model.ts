// GPT-2 training benchmark: tokens/s and effective GFLOP/s of full training steps (forward,
// backward, global-norm clip, AdamW) for two small byte-level shapes, against the plain
// TypeScript float64 reference doing the same step on the CPU, and each kernel's share of a
// step's GPU time (one extra, profiled step).
//
// FLOPs per trained token: 3 × forward, forward = 2·(3d² + d² + 2·d·f)·L matmuls + 2·d·V head
// + 2·T·d·L attention (QKᵀ and PV over the causal half of T): the usual "6N + attention" count.
import { DispatchProfiler, kernelGroup, type KernelProfile } from "../src/gpu/profiler.ts";
import { median, timeGpu } from "../src/gpu/autotune.ts";
import { matmul } from "../src/gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { seededUniform } from "../src/random.ts";
import type { Batch } from "../src/gpt2/batch.ts";
import { prepareBatch } from "../src/gpt2/batch.ts";
import { dimsOf, parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { GpuOptimizer } from "../src/gpt2/optimizer.ts";
import { initParams } from "../src/gpt2/params.ts";
import { referenceBackward, referenceForward, toParams64 } from "../src/gpt2/reference/model.ts";
import { adamState64, adamwStep, clipGradNorm } from "../src/gpt2/reference/optimizer.ts";
import { BYTE_VOCAB_SIZE } from "../src/text/byte_tokenizer.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

function randomBatch(seed: number, B: number, T: number): Batch {
  const next = seededUniform(seed);
  return { B, T, tokens: Array.from({ length: B * T }, () => Math.floor(next() * 256)) };
}

/** Matmuls by kernel and operand layout (NN, NT, TN: forward, dx, dW), the rest by entry point. */
function kernelRole(label: string): string {
  const group = kernelGroup(label);
  if (!group.startsWith("matmul")) return group;
  const flag = (name: string) => new RegExp(`"${name}",true`).test(label);
  const layout = label.includes('"A_T"')
    ? `${flag("A_T") ? "T" : "N"}${flag("B_T") ? "T" : "N"}`
    : "";
  return layout ? `${group} ${layout}` : group;
}

/** One extra step with every dispatch timed on its own (see src/gpu/profiler.ts). */
export async function profileStep(
  rt: GpuRuntime,
  step: () => Promise<unknown>,
): Promise<KernelProfile> {
  // The CPU backend times each call on the host: wall mode.
  const profiler = new DispatchProfiler(
    rt.device,
    16384,
    rt.isHost ? "wall" : undefined,
    kernelRole,
  );
  try {
    rt.profiler = profiler;
    await step();
    rt.profiler = null;
    rt.flush();
    return await profiler.collect();
  } finally {
    rt.profiler = null;
    profiler.dispose();
  }
}

/** The top kernels' shares of a profiled step as figures; the rest in the summary's notes. */
export function profileFigures(
  label: string,
  profile: KernelProfile,
  stepSeconds: number,
  top = 5,
): BenchFigure[] {
  const clock = profile.mode === "timestamp"
    ? "GPU timestamps, each dispatch in its own pass"
    : "CPU wall time between completions, each dispatch submitted alone (coarse upper bound)";
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    {
      name: `${label}: profiled kernel time`,
      unit: "s/step",
      value: profile.seconds,
      baselineName: "the same step unprofiled (wall time)",
      baseline: stepSeconds,
      speedup: null,
      notes: `${clock}; ${profile.dispatches} dispatches${
        profile.untimed ? ` (+${profile.untimed} untimed)` : ""
      }; shares: ${
        profile.kernels.map((k) => `${k.name} ${pct(k.share)} (${k.dispatches}×)`).join(", ")
      }`,
    },
    ...profile.kernels.slice(0, top).map((k) => ({
      name: `${label}: share of ${k.name}`,
      unit: "% of kernel time",
      value: 100 * k.share,
      baselineName: null,
      baseline: null,
      speedup: null,
      notes: `${k.dispatches} dispatches, ${(1000 * k.seconds).toFixed(1)} ms (${clock})`,
    })),
  ];
}

/**
 * GFLOP/s of the matmul kernel alone at [M, K] × [K, N] (same run, same machine load): enough
 * back-to-back dispatches per timed run (~0.1 GFLOP, at least 4) that the one sync at its end
 * does not dominate small shapes, as it does not inside a training step either.
 */
export async function matmulRateAt(
  rt: GpuRuntime,
  M: number,
  K: number,
  N: number,
): Promise<number> {
  const a = rt.tensor(Float32Array.from({ length: M * K }, (_, i) => (i % 13) / 13 - 0.5), [M, K]);
  const w = rt.tensor(Float32Array.from({ length: K * N }, (_, i) => (i % 7) / 7 - 0.5), [K, N]);
  const out = rt.zeros([M, N]);
  const flops = 2 * M * K * N;
  const perRun = Math.max(4, Math.ceil(1e8 / flops));
  try {
    const ms = await timeGpu(rt, async () => {
      for (let i = 0; i < perRun; i++) await matmul(rt, a, w, out);
    }, { warmup: 1, reps: 5 });
    return perRun * flops / (ms / 1000) / 1e9;
  } finally {
    for (const t of [a, w, out]) t.dispose();
  }
}

const MATMUL_SHARE_TARGET = ">= 50% of matmul alone";

interface Shape {
  layers: number;
  width: number;
  context: number;
  batch: number;
}

async function benchShape(rt: GpuRuntime, s: Shape, quick: boolean): Promise<BenchFigure[]> {
  const config = parseGpt2Config({
    vocab_size: BYTE_VOCAB_SIZE,
    n_positions: s.context,
    n_embd: s.width,
    n_layer: s.layers,
    n_head: Math.max(1, s.width / 32),
  });
  const { d, f, L, V } = dimsOf(config);
  const T = s.context;
  const forwardFlops = 2 * (4 * d * d + 2 * d * f) * L + 2 * d * V + 2 * T * d * L;
  const tokens = s.batch * T;
  const stepFlops = 3 * forwardFlops * tokens;
  const params = initParams(config, 1);
  const model = Gpt2Model.create(rt, params);
  const optimizer = GpuOptimizer.create(rt, { kind: "adamw", lr: 1e-3 }, model.layout.total);
  const batch = randomBatch(2, s.batch, T);
  const gpuTimes: number[] = [];
  let profile: KernelProfile;
  try {
    for (let i = 0; i < 2; i++) await model.trainStep(batch, optimizer); // compile, allocate
    for (let i = 0; i < (quick ? 3 : 8); i++) {
      const t = performance.now();
      await model.trainStep(batch, optimizer); // ends in a readback: the step has finished
      gpuTimes.push((performance.now() - t) / 1000);
    }
    profile = await profileStep(rt, () => model.trainStep(batch, optimizer));
  } finally {
    optimizer.dispose();
    model.dispose();
  }
  // The float64 reference, one step (it is slow), on the same batch.
  const p64 = toParams64(params);
  const prepared = prepareBatch(batch, config);
  const state = adamState64(p64);
  const c0 = performance.now();
  const fwd = referenceForward(p64, config, prepared);
  const grads = referenceBackward(p64, config, prepared, fwd);
  clipGradNorm(grads, 1);
  adamwStep(
    p64,
    grads,
    state,
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
    config,
  );
  const cpuSeconds = (performance.now() - c0) / 1000;

  const gpuSeconds = median(gpuTimes);
  const matmulRate = await matmulRateAt(rt, tokens, d, f);
  const label = `GPT-2 train step L=${L} d=${d} T=${T} B=${s.batch} V=${V}`;
  return [
    ...profileFigures(label, profile, gpuSeconds),
    {
      name: `${label}: tokens/s`,
      unit: "tokens/s",
      value: tokens / gpuSeconds,
      baselineName: "plain TypeScript float64 reference (same step on the CPU, one sample)",
      baseline: tokens / cpuSeconds,
      speedup: cpuSeconds / gpuSeconds,
      notes: `median of ${gpuTimes.length} steps, ${gpuSeconds.toFixed(3)} s/step`,
    },
    {
      name: `${label}: effective GFLOP/s`,
      unit: "GFLOP/s",
      value: stepFlops / gpuSeconds / 1e9,
      baselineName: "plain TypeScript float64 reference",
      baseline: stepFlops / cpuSeconds / 1e9,
      speedup: cpuSeconds / gpuSeconds,
      notes: `${(stepFlops / 1e9).toFixed(3)} GFLOP per step (3 × forward; causal attention)`,
    },
    {
      name: `${label}: effective GFLOP/s vs matmul`,
      unit: "GFLOP/s",
      value: stepFlops / gpuSeconds / 1e9,
      baselineName: `matmul alone at the MLP's ${tokens}x${d}x${f}`,
      baseline: matmulRate,
      speedup: stepFlops / gpuSeconds / 1e9 / matmulRate,
      target: MATMUL_SHARE_TARGET,
      notes: "the whole step (every kernel, clipping, AdamW, dispatch) against one matmul",
    },
  ];
}

/**
 * GPT-2-124M (12 layers, d = 768, 12 heads, V = 50257) forward + backward at T = 128, B = 1:
 * larger than one storage binding on llvmpipe (128 MiB), so its parameters span several
 * buffers and wte two vocabulary blocks (src/model/layout.ts). Effective GFLOP/s is set next to
 * the matmul kernel alone at the MLP's shape, 128 × 768 × 3072, measured in the same run.
 */
async function benchGpt2Small(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const config = parseGpt2Config({
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
  });
  const { d, f, L, V } = dimsOf(config);
  const [B, T] = [1, 128];
  const tokens = B * T;
  const forwardFlops = 2 * (4 * d * d + 2 * d * f) * L + 2 * d * V + 2 * T * d * L;
  const flops = 3 * forwardFlops * tokens;
  const next = seededUniform(3);
  const batch = { B, T, tokens: Array.from({ length: tokens }, () => Math.floor(next() * V)) };

  const matmulRate = await matmulRateAt(rt, tokens, d, f);

  const started = performance.now();
  const model = Gpt2Model.create(rt, initParams(config, 1));
  const setupSeconds = (performance.now() - started) / 1000;
  const times: number[] = [];
  let profile: KernelProfile | null = null;
  let loss = NaN;
  try {
    loss = (await model.computeGradients(batch)).loss; // compile, allocate
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t = performance.now();
      await model.computeGradients(batch); // ends in a readback
      times.push((performance.now() - t) / 1000);
    }
    if (!quick) profile = await profileStep(rt, () => model.computeGradients(batch));
  } finally {
    model.dispose();
  }
  const seconds = median(times);
  const { segments, vocabBlocks, total } = model.layout;
  const memory = `weights in ${segments.length} buffers (${
    (total * 4 / 2 ** 20).toFixed(0)
  } MiB, as much again for gradients), wte in ${vocabBlocks.length} vocabulary blocks`;
  const label = `GPT-2-124M fwd+bwd T=${T} B=${B}`;
  return [
    {
      name: `${label}: seconds`,
      unit: "s",
      value: seconds,
      baselineName: null,
      baseline: null,
      speedup: null,
      notes: `median of ${times.length}; ${memory}; initial loss ${loss.toFixed(3)} (ln V = ${
        Math.log(V).toFixed(3)
      }); init + upload ${setupSeconds.toFixed(1)} s`,
    },
    {
      name: `${label}: effective GFLOP/s`,
      unit: "GFLOP/s",
      value: flops / seconds / 1e9,
      baselineName: `matmul alone at ${tokens}x${d}x${f}`,
      baseline: matmulRate,
      speedup: flops / seconds / 1e9 / matmulRate,
      target: MATMUL_SHARE_TARGET,
      notes: `${(flops / 1e9).toFixed(1)} GFLOP per fwd+bwd (3 × forward, tied head included)`,
    },
    ...(profile ? profileFigures(label, profile, seconds) : []),
  ];
}

export const modelSuite: BenchSuite = {
  name: "model",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    const shapes: Shape[] = [
      { layers: 2, width: 64, context: 64, batch: quick ? 4 : 8 },
      { layers: 4, width: 128, context: 128, batch: quick ? 2 : 8 },
    ];
    const figures: BenchFigure[] = [];
    for (const s of shapes) figures.push(...await benchShape(rt, s, quick));
    figures.push(...await benchGpt2Small(rt, quick));
    return figures;
  },
};
