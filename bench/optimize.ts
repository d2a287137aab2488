// `deno task bench --suite optimize`: how fast the simulator method of POST /v1/curricula/optimize
// evaluates candidate curricula. A synthetic Simfluence-Linear simulator and base run (n ids, T
// steps of `batch`, 8 objective tests of 32); the search (simulated annealing, 64 candidates a
// round, proposals included) and its batched float64 rollout alone, each beside one rollout per
// curriculum as the service's simulation does it: the float64 CPU reference (simulateCpu) and the
// GPU rollout (simulateGpu), on the same curricula. The GPU batched rollout (float32, 64 candidates
// a dispatch, as the search uses it with a GPU) beside both, and the search on it.
import { rolloutBatch, rolloutProblem } from "../src/curricula/batched_rollout.ts";
import { GpuRollout } from "../src/curricula/kernels/rollout.ts";
import type { Setting } from "../src/curricula/setting.ts";
import { simulatorSearch } from "../src/curricula/simulator_method.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { seededNormal, seededUniform } from "../src/random.ts";
import type { StoredRun } from "../src/runs/run_store.ts";
import { simulateGpu } from "../src/simfluence/math/kernels/simulate.ts";
import { simulateCpu } from "../src/simfluence/math/reference/simulate.ts";
import type { SimulatorParams } from "../src/simfluence/math/types.ts";
import type { LoadedSimulator } from "../src/simfluence/simulator_store.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

interface Shape {
  n: number;
  T: number;
  batch: number;
  m: number;
  objective: number;
}

const FULL: Shape = { n: 1000, T: 400, batch: 16, m: 32, objective: 8 };
const QUICK: Shape = { n: 200, T: 100, batch: 16, m: 32, objective: 8 };

function synthetic(shape: Shape) {
  const uniform = seededUniform(1);
  const normal = seededNormal(2);
  const ids = Array.from({ length: shape.n }, (_, i) => `e${i}`);
  const steps = Array.from({ length: shape.T }, () => ({
    batch: Array.from({ length: shape.batch }, () => ids[Math.floor(uniform() * shape.n)]),
  }));
  const testIds = Array.from({ length: shape.m }, (_, z) => `q${z}`);
  const losses = new Float32Array((shape.T + 1) * shape.m).fill(3);
  const used = new Set(steps.flatMap((s) => s.batch));
  const pool = ids.filter((id) => used.has(id));
  const columns = Array.from({ length: shape.objective }, (_, j) => j * 4);
  const setting: Setting = {
    study: "bench",
    testIds,
    objective: {
      tests: columns.map((z) => testIds[z]),
      columns,
      weights: columns.map(() => 1 / columns.length),
      at: "final",
    },
    base: { id: "base", run: { steps, losses, testExamples: testIds } } as unknown as StoredRun,
    pool,
    keep: new Set(),
    exclude: new Set(),
    keepCount: Math.round(pool.length / 2),
  };
  const params: SimulatorParams = {
    kind: "linear",
    n: shape.n,
    m: shape.m,
    A: Float32Array.from({ length: shape.n * shape.m }, () => -1e-3 + 1e-3 * normal()),
    B: Float32Array.from({ length: shape.n * shape.m }, () => -1e-3 + 2e-3 * normal()),
    unseen: [],
    meanLoss: new Float32Array(shape.m),
    lambdaFactor: 1,
    scoreScale: null,
  };
  const sim = {
    record: { id: "bench" },
    params,
    trainIds: ids,
    testIds,
    initialLoss: new Float32Array(shape.m).fill(3),
  } as unknown as LoadedSimulator;
  return { setting, sim, uniform };
}

/** Calls per second of `f` over at least `seconds` (after one warm-up call). */
async function rate(f: () => unknown | Promise<unknown>, perCall: number, seconds: number) {
  await f();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await f();
    calls++;
  }
  return (calls * perCall) / ((performance.now() - t0) / 1000);
}

export const optimizeSuite: BenchSuite = {
  name: "optimize",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    const shape = quick ? QUICK : FULL;
    const { setting, sim, uniform } = synthetic(shape);
    const label = `n=${setting.pool.length} ids, T=${shape.T}×${shape.batch}, ` +
      `${shape.objective} objective tests`;
    const p = rolloutProblem(setting, sim, setting.base.run.losses);
    const candidates = Array.from({ length: 64 }, () => ({
      mask: Uint8Array.from(setting.pool, () => (uniform() < 0.5 ? 1 : 0)),
      order: Int32Array.from({ length: shape.T }, (_, t) => t),
    }));
    const index = new Map(sim.trainIds.map((id, i) => [id, i]));
    const poolIndex = setting.pool.map((id) => index.get(id)!);
    const requestOf = (k: number) => {
      const c = candidates[k % candidates.length];
      const kept = new Set(poolIndex.filter((_, i) => c.mask[i] === 1));
      return {
        batches: setting.base.run.steps.map((s) =>
          s.batch.map((id) => index.get(id)!).filter((i) => kept.has(i))
        ),
        initialLosses: setting.objective.columns.map(() => 3),
        tests: setting.objective.columns,
      };
    };
    const seconds = quick ? 1 : 3;
    const batched = await rate(() => rolloutBatch(p, candidates), candidates.length, seconds);
    let k = 0;
    const cpu = await rate(() => simulateCpu(sim.params, requestOf(k++)), 1, seconds);
    const gpu = await rate(() => simulateGpu(rt, sim.params, requestOf(k++)), 1, seconds);
    const gpuRollout = GpuRollout.create(rt, p);
    let batchedGpu: number;
    try {
      batchedGpu = await rate(() => gpuRollout.evaluate(candidates), candidates.length, seconds);
    } finally {
      gpuRollout.dispose();
    }
    const searchRateOn = async (runtime: GpuRuntime | null) => {
      const search = await simulatorSearch(
        setting,
        sim,
        {
          restarts: 1,
          rounds: quick ? 20 : 60,
          candidates: 64,
          optimizeOrder: false,
          seed: 0,
          fittedPresent: null,
        },
        { signal: new AbortController().signal, report: () => {} },
        runtime,
      );
      return search.search.curriculaPerSecond as number;
    };
    const searchRate = await searchRateOn(null);
    const searchRateGpu = await searchRateOn(rt);
    const row = (name: string, value: number, baselineName: string, baseline: number) => ({
      name,
      unit: "curricula/s",
      value,
      baselineName,
      baseline,
      speedup: value / baseline,
    });
    return [
      row(
        `optimize: simulator search, curricula evaluated (${label})`,
        searchRate,
        "one CPU rollout each (simulateCpu)",
        cpu,
      ),
      row(
        "optimize: batched float64 rollout alone, 64 candidates a call",
        batched,
        "one CPU rollout each (simulateCpu)",
        cpu,
      ),
      row(
        "optimize: batched float64 rollout alone, 64 candidates a call",
        batched,
        "one GPU rollout each (simulateGpu)",
        gpu,
      ),
      row(
        "optimize: batched float32 GPU rollout alone, 64 candidates a dispatch",
        batchedGpu,
        "batched float64 CPU rollout, 64 candidates a call",
        batched,
      ),
      row(
        "optimize: batched float32 GPU rollout alone, 64 candidates a dispatch",
        batchedGpu,
        "one GPU rollout each (simulateGpu)",
        gpu,
      ),
      row(
        "optimize: simulator search on the GPU batched rollout, curricula evaluated",
        searchRateGpu,
        "the same search on the CPU batched rollout",
        searchRate,
      ),
    ];
  },
};
