// The CPU backend against the WGSL kernels on the same machine, in one run (issue 20, part 2):
// `deno task bench --suite backend`. Each row sets the CPU backend beside a baseline measured in
// this run, with the goal as its target:
// - a GPT-2 training step (4 layers, width 128, T = 128, B = 8) in effective GFLOP/s, against
//   OpenBLAS sgemm alone at the MLP's shape (≥ 40 %), and against the same step on WebGPU;
// - recording runs (training plus probe losses) against a bare training step (≤ 1.5×);
// - EK-FAC factors and scores at 4 layers, width 128, 256 training examples × 16 queries
//   (≥ 4× the WebGPU time);
// - a Simfluence-Linear fit, n = m = 1,000, 32 runs × 100 steps, λ auto (≤ 8 s).
// On a machine with a real GPU the WebGPU figures are that GPU's. --quick shrinks every size.
import { median } from "../src/gpu/autotune.ts";
import { tuneMatmul } from "../src/gpu/kernels/matmul.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { dimsOf, parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { initParams } from "../src/gpt2/params.ts";
import { fitFactors } from "../src/influence/factors/fit.ts";
import { trackedModules } from "../src/influence/modules.ts";
import { computeScores } from "../src/influence/scores/engine.ts";
import { fitSimulator } from "../src/simfluence/math/fit.ts";
import { BYTE_VOCAB_SIZE } from "../src/text/byte_tokenizer.ts";
import { buildBatch } from "../src/training/encode.ts";
import { sequences } from "./influence.ts";
import { matmulRateAt } from "./model.ts";
import { syntheticStudy } from "./simfluence.ts";
import type { BenchFigure, BenchOptions, BenchSuite } from "./suite.ts";
import { trainingSuite } from "./training.ts";

const CPU_VS_WEBGPU = "cpu vs webgpu";

/** Median seconds of `reps` calls after one warm-up call. */
async function seconds(reps: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await work();
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

async function trainStepSeconds(
  rt: GpuRuntime,
  s: { L: number; d: number; T: number; B: number },
  reps: number,
) {
  const config = parseGpt2Config({
    vocab_size: BYTE_VOCAB_SIZE,
    n_positions: s.T,
    n_embd: s.d,
    n_layer: s.L,
    n_head: Math.max(1, s.d / 32),
  });
  const model = Gpt2Model.create(rt, initParams(config, 1));
  const optimizer = model.createOptimizer({ kind: "adamw", lr: 1e-3 });
  try {
    const batch = buildBatch(sequences("s", s.B, s.T, BYTE_VOCAB_SIZE, 2));
    return { config, seconds: await seconds(reps, () => model.trainStep(batch, optimizer)) };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function trainStepFigures(
  cpu: GpuRuntime,
  webgpu: GpuRuntime,
  quick: boolean,
): Promise<BenchFigure[]> {
  const s = { L: 4, d: 128, T: 128, B: quick ? 2 : 8 };
  const onCpu = await trainStepSeconds(cpu, s, quick ? 3 : 8);
  const onWebgpu = await trainStepSeconds(webgpu, s, quick ? 2 : 5);
  const { d, f, L, V } = dimsOf(onCpu.config);
  const tokens = s.B * s.T;
  const stepFlops = 3 * tokens * (2 * (4 * d * d + 2 * d * f) * L + 2 * d * V + 2 * s.T * d * L);
  const rate = stepFlops / onCpu.seconds / 1e9;
  const sgemmRate = await matmulRateAt(cpu, tokens, d, f);
  const label = `GPT-2 train step L=${L} d=${d} T=${s.T} B=${s.B} V=${V}`;
  return [
    {
      name: `${label}: effective GFLOP/s vs sgemm`,
      unit: "GFLOP/s",
      value: rate,
      baselineName: `OpenBLAS sgemm alone at the MLP's ${tokens}x${d}x${f}`,
      baseline: sgemmRate,
      speedup: rate / sgemmRate,
      target: ">= 0.4x (40 % of sgemm)",
      backend: "cpu",
      notes: `${onCpu.seconds.toFixed(3)} s/step (median)`,
    },
    {
      name: `${label}: s/step`,
      unit: "s",
      value: onCpu.seconds,
      baselineName: "the same step on the WebGPU backend",
      baseline: onWebgpu.seconds,
      speedup: onWebgpu.seconds / onCpu.seconds,
      backend: CPU_VS_WEBGPU,
    },
  ];
}

async function recordingFigure(cpu: GpuRuntime, options: BenchOptions): Promise<BenchFigure[]> {
  // The training suite's row, measured on the CPU backend: recordRuns against bare steps.
  const [row] = await trainingSuite.run(cpu, options);
  return [{
    ...row,
    name: `${row.name}: recording overhead`,
    target: "<= 1.5x a bare step (ratio >= 0.67)",
    backend: "cpu",
  }];
}

async function influenceSeconds(rt: GpuRuntime, m: number, reps: number) {
  const shape = { L: 4, d: 128, T: 64, V: BYTE_VOCAB_SIZE };
  const params = initParams(
    parseGpt2Config({
      vocab_size: shape.V,
      n_positions: shape.T,
      n_embd: shape.d,
      n_layer: shape.L,
      n_head: 2,
    }),
    1,
  );
  const modules = trackedModules(params.config, "mlp");
  const train = sequences("t", m, shape.T, shape.V, 1);
  const queries = sequences("q", 16, shape.T, shape.V, 2);
  return await seconds(reps, async () => {
    const factors = await fitFactors({ runtime: rt, params, sequences: train, modules });
    await computeScores({ runtime: rt, params, factors, train, queries, queryRank: null });
  });
}

async function influenceFigure(
  cpu: GpuRuntime,
  webgpu: GpuRuntime,
  quick: boolean,
): Promise<BenchFigure[]> {
  const m = quick ? 32 : 256;
  const onCpu = await influenceSeconds(cpu, m, quick ? 1 : 3);
  const onWebgpu = await influenceSeconds(webgpu, m, 1);
  return [{
    name: `EK-FAC factors + scores (mlp) L=4 d=128 T=64, ${m} training examples x 16 queries`,
    unit: "s",
    value: onCpu,
    baselineName: "the same on the WebGPU backend",
    baseline: onWebgpu,
    speedup: onWebgpu / onCpu,
    target: ">= 4x",
    backend: CPU_VS_WEBGPU,
  }];
}

async function fitFigure(
  cpu: GpuRuntime,
  webgpu: GpuRuntime,
  quick: boolean,
): Promise<BenchFigure[]> {
  const n = quick ? 200 : 1000, m = n, runCount = quick ? 8 : 32, steps = 100;
  const { runs } = syntheticStudy(n, m, runCount, steps);
  const universe = {
    trainIds: Array.from({ length: n }, (_, i) => `e${i}`),
    testIds: Array.from({ length: m }, (_, z) => `q${z}`),
  };
  const fit = async (rt: GpuRuntime) => {
    const t = performance.now();
    const fitted = await fitSimulator(rt, universe, runs, { kind: "linear", lambdaFactor: "auto" });
    return { seconds: (performance.now() - t) / 1000, factor: fitted.params.lambdaFactor };
  };
  const onCpu = await fit(cpu);
  const onWebgpu = await fit(webgpu);
  return [{
    name: `simfluence-linear fit, λ auto, n=${n} m=${m} ${runCount}x${steps} steps`,
    unit: "s",
    value: onCpu.seconds,
    baselineName: "the same fit on the WebGPU backend",
    baseline: onWebgpu.seconds,
    speedup: onWebgpu.seconds / onCpu.seconds,
    target: "<= 8 s",
    backend: CPU_VS_WEBGPU,
    notes: `one sample each; λ factor chosen: cpu ${onCpu.factor}, webgpu ${onWebgpu.factor}`,
  }];
}

export const backendSuite: BenchSuite = {
  name: "backend",
  async run(rt: GpuRuntime, options: BenchOptions): Promise<BenchFigure[]> {
    // The run's runtime is one side; the other is made here and closed at the end.
    const other = await GpuRuntime.create({ backend: rt.isHost ? "webgpu" : "cpu" });
    const cpu = rt.isHost ? rt : other;
    const webgpu = rt.isHost ? other : rt;
    // The WGSL side with its matmul tuned, as the service runs it (cached with the matmul suite's).
    await tuneMatmul(webgpu, { cacheFile: "bench/results/tune-cache.json", quick: options.quick });
    // Progress on stderr: the WebGPU halves take minutes on llvmpipe.
    const sections: [string, () => Promise<BenchFigure[]>][] = [
      ["train step", () => trainStepFigures(cpu, webgpu, options.quick)],
      ["recording", () => recordingFigure(cpu, options)],
      ["EK-FAC", () => influenceFigure(cpu, webgpu, options.quick)],
      ["simfluence fit", () => fitFigure(cpu, webgpu, options.quick)],
    ];
    const figures: BenchFigure[] = [];
    try {
      for (const [name, run] of sections) {
        const t = performance.now();
        const rows = await run();
        console.error(
          `backend suite: ${name} done in ${((performance.now() - t) / 1000).toFixed(1)} s`,
        );
        for (const f of rows) {
          console.error(
            `  ${f.name}: ${f.value.toPrecision(4)} ${f.unit} (baseline ${
              f.baseline?.toPrecision(4)
            })`,
          );
        }
        figures.push(...rows);
      }
      return figures;
    } finally {
      other.close();
    }
  },
};
