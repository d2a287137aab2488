// GPT-2 training benchmark: tokens/s and effective GFLOP/s of full training steps (forward,
// backward, global-norm clip, AdamW) for two small byte-level shapes, against the plain
// TypeScript float64 reference doing the same step on the CPU.
//
// FLOPs per trained token: 3 × forward, forward = 2·(3d² + d² + 2·d·f)·L matmuls + 2·d·V head
// + 2·T·d·L attention (QKᵀ and PV over the causal half of T): the usual "6N + attention" count.
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { seededUniform } from "../src/gpu/reference/random.ts";
import type { Batch } from "../src/model/batch.ts";
import { prepareBatch } from "../src/model/batch.ts";
import { dimsOf, parseGpt2Config } from "../src/model/config.ts";
import { Gpt2Model } from "../src/model/gpt2.ts";
import { GpuOptimizer } from "../src/model/optimizer.ts";
import { initParams } from "../src/model/params.ts";
import {
  adamState64,
  adamwStep,
  clipGradNorm,
  referenceBackward,
  referenceForward,
  toParams64,
} from "../src/model/reference.ts";
import { BYTE_VOCAB_SIZE } from "../src/model/tokenizer.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const k = Math.floor(s.length / 2);
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
}

function randomBatch(seed: number, B: number, T: number): Batch {
  const next = seededUniform(seed);
  return { B, T, tokens: Array.from({ length: B * T }, () => Math.floor(next() * 256)) };
}

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
  try {
    for (let i = 0; i < 2; i++) await model.trainStep(batch, optimizer); // compile, allocate
    for (let i = 0; i < (quick ? 3 : 8); i++) {
      const t = performance.now();
      await model.trainStep(batch, optimizer); // ends in a readback: the step has finished
      gpuTimes.push((performance.now() - t) / 1000);
    }
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
  const label = `GPT-2 train step L=${L} d=${d} T=${T} B=${s.batch} V=${V}`;
  return [
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
    return figures;
  },
};
