// Held-out evaluation of a simulator (MATH.md §2, "Metrics"): roll out each run's curriculum from
// its observed L_0 and compare with its observed losses, per run and pooled.
import { presentIds } from "../runs/run_input.ts";
import { ConflictError } from "../errors.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { listSome } from "../runs/run_input.ts";
import type { StoredRun } from "../runs/run_store.ts";
import { pooledMetrics, type TrajectoryMetrics } from "./math/metrics.ts";
import { simulateGpu } from "./math/kernels/simulate.ts";
import { simulateCpu } from "./math/reference/simulate.ts";
import type { LoadedSimulator, SimulatorRecord } from "./simulator_store.ts";
import { indexBatches } from "./study_runs.ts";

export interface RunEvaluation extends TrajectoryMetrics {
  run: string;
  name: string;
  steps: number;
}

/** Some ids of a list, and how many there are. */
export interface IdList {
  ids: string[];
  total: number;
}

export interface Evaluation {
  simulator: string;
  runs: RunEvaluation[];
  pooled: TrajectoryMetrics & { meanRunSpearman: number };
  /** The evaluated runs the simulator was fitted on (allowed with `allowFittingRuns`). */
  fittingRuns: IdList;
  evaluatedAt: string;
}

/**
 * The one rule for a simulator's fitting runs (training and validation) in any evaluation of it
 * (POST /v1/simulators/:id/evaluate, POST /v1/evaluations/lds): they flatter the simulator, so
 * they are a 409 naming them unless the request says `allowFittingRuns: true`; allowed, they are
 * listed with the result.
 */
export function fittingRunsAmong(
  record: Pick<SimulatorRecord, "id" | "trainRuns" | "validationRuns">,
  runs: readonly string[],
  allowFittingRuns: boolean,
): IdList {
  const fitting = new Set([...record.trainRuns, ...record.validationRuns]);
  const reused = listSome(runs.filter((r) => fitting.has(r)));
  if (reused.total > 0 && !allowFittingRuns) {
    throw new ConflictError(
      `run(s) ${reused.ids.slice(0, 5).join(", ")} were used to fit simulator ${record.id}; ` +
        'evaluate on held-out runs, or send "allowFittingRuns": true',
      { field: "runs", fittingRuns: reused },
      "fitting_runs",
    );
  }
  return reused;
}

/** NaN (a constant final loss) is not JSON; report it as null. */
function jsonSafe<T extends object>(metrics: T): T {
  return Object.fromEntries(
    Object.entries(metrics).map((
      [k, v],
    ) => [k, typeof v === "number" && !Number.isFinite(v) ? null : v]),
  ) as T;
}

export async function evaluateSimulator(
  rt: GpuRuntime | null,
  sim: LoadedSimulator,
  runs: readonly StoredRun[],
  fittingRuns: IdList,
): Promise<Evaluation> {
  const index = new Map(sim.trainIds.map((id, i) => [id, i]));
  const m = sim.testIds.length;
  const trajectories = [];
  for (const stored of runs) {
    const request = {
      batches: indexBatches(stored.run.steps.map(presentIds), index),
      initialLosses: stored.run.losses.subarray(0, m),
    };
    const predicted = rt
      ? await simulateGpu(rt, sim.params, request)
      : simulateCpu(sim.params, request);
    trajectories.push({ predicted, observed: stored.run.losses, tests: m });
  }
  const metrics = pooledMetrics(trajectories);
  return {
    simulator: sim.record.id,
    runs: runs.map((stored, r) =>
      jsonSafe({ run: stored.id, name: stored.name, steps: stored.steps, ...metrics.perRun[r] })
    ),
    pooled: jsonSafe({ ...metrics.pooled, meanRunSpearman: metrics.meanRunSpearman }),
    fittingRuns,
    evaluatedAt: new Date().toISOString(),
  };
}

/**
 * Each run's final losses L̂_T as the simulator predicts them: its curriculum rolled out from the
 * run's own L_0. R x m row-major, in the order of `runs`.
 */
export async function predictFinalLosses(
  rt: GpuRuntime | null,
  sim: LoadedSimulator,
  runs: readonly StoredRun[],
  onRun?: (done: number) => void,
): Promise<Float64Array> {
  const index = new Map(sim.trainIds.map((id, i) => [id, i]));
  const m = sim.testIds.length;
  const out = new Float64Array(runs.length * m);
  for (const [r, stored] of runs.entries()) {
    const request = {
      batches: indexBatches(stored.run.steps.map(presentIds), index),
      initialLosses: stored.run.losses.subarray(0, m),
    };
    const predicted = rt
      ? await simulateGpu(rt, sim.params, request)
      : simulateCpu(sim.params, request);
    const T = stored.run.steps.length;
    for (let z = 0; z < m; z++) out[r * m + z] = predicted[T * m + z];
    onRun?.(r + 1);
  }
  return out;
}
