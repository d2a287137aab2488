// Method "simulator": search the kept set (and, with order "optimize", the order of the base run's
// batches) by rolling candidate curricula out through a fitted simulator. Simulated annealing
// with seeded restarts: restart 0 starts from the greedy choice (the ids whose single removal
// from the full curriculum raises the objective most are kept), the others from random subsets;
// each round proposes `candidates` moves (swap a kept and a dropped free id, or two batch
// positions), evaluates them all in one batched rollout, and takes the best, or a worse one with
// the annealing probability. The best curriculum seen over every restart wins. With a GPU runtime
// the rounds are rolled out on the GPU (float32, ./kernels/rollout.ts), else in float64 on the CPU.
import type { GpuRuntime } from "../gpu/runtime.ts";
import { seededUniform } from "../random.ts";
import type { LoadedSimulator } from "../simfluence/simulator_store.ts";
import { TimeSlice } from "../simfluence/math/time_slice.ts";
import {
  type Candidate,
  rolloutBatch as rolloutBatchCpu,
  type RolloutProblem,
  rolloutProblem,
  rolloutTrajectory,
} from "./batched_rollout.ts";
import { GpuRollout } from "./kernels/rollout.ts";
import { baseOrder, type ChosenCurriculum } from "./curriculum.ts";
import type { MethodOutcome, MethodProgress } from "./method.ts";
import type { Setting } from "./setting.ts";

export interface SearchOptions {
  restarts: number;
  rounds: number;
  candidates: number;
  optimizeOrder: boolean;
  seed: number;
  /** Mean entries per step of the simulator's fitting runs, to scale each step by; null: sums. */
  fittedPresent: number | null;
}

/** Rounds' best objectives kept per restart in the result (evenly thinned). */
const TRACE_POINTS = 100;

function maskOf(setting: Setting, kept: Iterable<string>): Uint8Array {
  const index = new Map(setting.pool.map((id, i) => [id, i]));
  const mask = new Uint8Array(setting.pool.length);
  for (const id of kept) mask[index.get(id)!] = 1;
  return mask;
}

function thin(values: number[]): number[] {
  if (values.length <= TRACE_POINTS) return values;
  return Array.from(
    { length: TRACE_POINTS },
    (_, k) => values[Math.round((k * (values.length - 1)) / (TRACE_POINTS - 1))],
  );
}

/** J of every candidate in one batched call, on the GPU or the CPU. */
type Evaluate = (candidates: readonly Candidate[]) => Promise<Float64Array>;

/** Greedy start: keep the free ids whose presence in the full curriculum helps most. */
async function greedyMask(
  p: RolloutProblem,
  setting: Setting,
  free: number[],
  rolloutBatch: Evaluate,
): Promise<Uint8Array> {
  const full = new Uint8Array(p.n).fill(1);
  setting.pool.forEach((id, i) => setting.exclude.has(id) && (full[i] = 0));
  const order = baseOrder(setting);
  const [whole] = await rolloutBatch([{ mask: full, order }]);
  const without = await rolloutBatch(
    free.map((i) => {
      const mask = full.slice();
      mask[i] = 0;
      return { mask, order };
    }),
  );
  // Presence effect: J(all) − J(all without i); the most negative helps most.
  const ranked = free.map((i, k) => ({ i, effect: whole - without[k] }))
    .sort((a, b) => a.effect - b.effect || a.i - b.i);
  const mask = full.slice();
  for (const i of free) mask[i] = 0;
  const budget = setting.keepCount - setting.keep.size;
  for (const { i } of ranked.slice(0, budget)) mask[i] = 1;
  return mask;
}

function randomMask(setting: Setting, free: number[], random: () => number): Uint8Array {
  const mask = new Uint8Array(setting.pool.length);
  setting.pool.forEach((id, i) => setting.keep.has(id) && (mask[i] = 1));
  const pick = free.slice();
  for (let k = pick.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [pick[k], pick[j]] = [pick[j], pick[k]];
  }
  for (const i of pick.slice(0, setting.keepCount - setting.keep.size)) mask[i] = 1;
  return mask;
}

/** A move: a swap of a kept and a dropped free id, or of two batch positions. */
function propose(
  current: Candidate,
  free: number[],
  random: () => number,
  orderMoves: boolean,
): Candidate {
  const T = current.order.length;
  if (orderMoves && T > 1 && random() < 0.5) {
    const order = Int32Array.from(current.order);
    const a = Math.floor(random() * T);
    let b = Math.floor(random() * (T - 1));
    if (b >= a) b++;
    [order[a], order[b]] = [order[b], order[a]];
    return { mask: current.mask, order };
  }
  const kept = free.filter((i) => current.mask[i] === 1);
  const dropped = free.filter((i) => current.mask[i] === 0);
  if (kept.length === 0 || dropped.length === 0) return current;
  const mask = current.mask.slice();
  mask[kept[Math.floor(random() * kept.length)]] = 0;
  mask[dropped[Math.floor(random() * dropped.length)]] = 1;
  return { mask, order: current.order };
}

export async function simulatorSearch(
  setting: Setting,
  sim: LoadedSimulator,
  options: SearchOptions,
  progress: MethodProgress,
  runtime: GpuRuntime | null = null,
): Promise<MethodOutcome> {
  const started = performance.now();
  const initial = setting.base.run.losses.subarray(0, setting.testIds.length);
  const p = rolloutProblem(setting, sim, initial, options.fittedPresent);
  const gpu = runtime ? GpuRollout.create(runtime, p) : null;
  try {
    return await search(setting, sim, options, progress, p, started, gpu);
  } finally {
    gpu?.dispose();
  }
}

async function search(
  setting: Setting,
  sim: LoadedSimulator,
  options: SearchOptions,
  progress: MethodProgress,
  p: RolloutProblem,
  started: number,
  gpu: GpuRollout | null,
): Promise<MethodOutcome> {
  const rolloutBatch: Evaluate = gpu
    ? (candidates) => gpu.evaluate(candidates)
    : (candidates) => Promise.resolve(rolloutBatchCpu(p, candidates));
  const free = setting.pool.flatMap((id, i) =>
    setting.keep.has(id) || setting.exclude.has(id) ? [] : [i]
  );
  const slice = new TimeSlice(progress.signal);
  const totalRounds = options.restarts * options.rounds;
  let evaluated = 0;
  let best: { candidate: Candidate; objective: number } | null = null;
  const restarts: { start: string; startObjective: number; best: number; trace: number[] }[] = [];
  const greedy = await greedyMask(p, setting, free, rolloutBatch);
  evaluated += free.length + 1;
  for (let r = 0; r < options.restarts; r++) {
    const random = seededUniform((options.seed * 7919 + r * 104_729 + 1) >>> 0);
    let current: Candidate = {
      mask: r === 0 ? greedy : randomMask(setting, free, random),
      order: Int32Array.from(baseOrder(setting)),
    };
    let currentObjective = (await rolloutBatch([current]))[0];
    const startObjective = currentObjective;
    let restartBest = { candidate: current, objective: currentObjective };
    let temperature = -1;
    const trace: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const proposals = Array.from(
        { length: options.candidates },
        () => propose(current, free, random, options.optimizeOrder),
      );
      const values = await rolloutBatch(proposals);
      evaluated += proposals.length;
      let k = 0;
      for (let j = 1; j < values.length; j++) if (values[j] < values[k]) k = j;
      const delta = values[k] - currentObjective;
      if (temperature < 0) {
        // The first round's spread of moves sets the starting temperature.
        let spread = 0;
        for (const v of values) spread += Math.abs(v - currentObjective);
        temperature = (0.5 * spread) / values.length;
      }
      const heat = temperature * (1 - round / options.rounds) ** 2;
      if (delta < 0 || (heat > 0 && random() < Math.exp(-delta / heat))) {
        current = proposals[k];
        currentObjective = values[k];
      }
      if (currentObjective < restartBest.objective) {
        restartBest = { candidate: current, objective: currentObjective };
      }
      trace.push(restartBest.objective);
      const done = r * options.rounds + round + 1;
      if (slice.due || done === totalRounds) {
        const seconds = (performance.now() - started) / 1000;
        progress.report({
          phase: "search",
          fraction: done / totalRounds,
          step: done,
          total: totalRounds,
          unit: "rounds",
          throughput: evaluated / Math.max(seconds, 1e-9),
          throughputUnit: "curricula",
          message: `restart ${r + 1}/${options.restarts}, best objective ` +
            `${Math.min(restartBest.objective, best?.objective ?? Infinity).toFixed(5)}`,
          details: {
            restart: r,
            round,
            objective: currentObjective,
            best: Math.min(restartBest.objective, best?.objective ?? Infinity),
          },
        });
        await slice.maybeYield();
      }
    }
    restarts.push({
      start: r === 0 ? "greedy" : "random",
      startObjective,
      best: restartBest.objective,
      trace: thin(trace),
    });
    if (!best || restartBest.objective < best.objective) best = restartBest;
  }
  const chosen = best!.candidate;
  // Contributions: flip each id's inclusion in the chosen curriculum, all in one batch.
  const flips = setting.pool.map((_, i) => {
    const mask = chosen.mask.slice();
    mask[i] = 1 - mask[i];
    return { mask, order: chosen.order };
  });
  const flipped = await rolloutBatch(flips);
  evaluated += flips.length;
  const contributions = new Map<string, number>();
  setting.pool.forEach((id, i) => {
    const delta = flipped[i] - best!.objective;
    contributions.set(id, chosen.mask[i] === 1 ? -delta : delta);
  });
  const seconds = (performance.now() - started) / 1000;
  const curriculum: ChosenCurriculum = {
    kept: setting.pool.filter((_, i) => chosen.mask[i] === 1),
    order: Array.from(chosen.order),
  };
  return {
    curriculum,
    predict: (c) => rolloutTrajectory(p, { mask: maskOf(setting, c.kept), order: c.order }),
    contributions,
    search: {
      algorithm: "simulated annealing over swaps" +
        (options.optimizeOrder
          ? " of kept/dropped ids and of batch positions"
          : " of kept/dropped ids") +
        (gpu
          ? ", candidates evaluated in batched float32 GPU rollouts (one dispatch a round)"
          : ", candidates evaluated in batched float64 CPU rollouts"),
      device: gpu ? "gpu" : "cpu",
      restarts,
      rounds: options.rounds,
      candidatesPerRound: options.candidates,
      curriculaEvaluated: evaluated,
      curriculaPerSecond: evaluated / Math.max(seconds, 1e-9),
      seconds,
      unknownToSimulator: p.unknownToSimulator.length,
    },
    provenance: {
      simulator: sim.record.id,
      simulatorKind: sim.params.kind,
      initialLosses: "the base run's L_0",
      stepEffect: options.fittedPresent === null
        ? "sum (Simfluence's rollout)"
        : `mean: each step's sums scaled by ${options.fittedPresent.toFixed(3)} (the fitting ` +
          "runs' mean entries per step) over the entries it keeps",
    },
  };
}
