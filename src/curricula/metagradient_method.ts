// Method "metagradient": metagradient descent on continuous data weights (Engstrom et al. 2025).
// The base run is replayed with the current weights w (the engine's forward pass is that
// training run), and the exact metagradient g = ∂J/∂w of the objective J (the weighted mean of the
// objective tests' final mean-token losses) comes from one reverse pass (src/metagradients/). Then
// w ← Π(w − s·g / mean|g|), Π the Euclidean projection onto {w ∈ [0,1]^free : Σ w = budget} (keep
// fixed at 1, exclude at 0). Iteration 0 replays the run's own weights and is checked against its
// recording. After the last iteration the weights are rounded to the budget (the largest kept).
// Predictions linearise J at the last iterate: J(x) ≈ J(w) + g·(x − w).
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Batch, PreparedBatch } from "../gpt2/batch.ts";
import type { Objective as LossObjective } from "../gpt2/taps.ts";
import { computeMetagradients } from "../metagradients/engine.ts";
import type { ReplayableRun } from "../metagradients/replay.ts";
import { baseOrder } from "./curriculum.ts";
import type { MethodOutcome, MethodProgress } from "./method.ts";
import type { Setting } from "./setting.ts";

export interface MetagradientOptions {
  iterations: number;
  stepSize: number;
}

/** Euclidean projection of v onto {w ∈ [0,1]^n : Σ w = total} (bisection on the shift). */
export function projectOntoBudget(v: Float64Array, total: number): Float64Array {
  const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
  const sumAt = (theta: number) => {
    let s = 0;
    for (const x of v) s += clip(x - theta);
    return s;
  };
  // Loops, not Math.min(...v): spreading a pool of 10⁵ ids overflows the call stack.
  let lo = Infinity, hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  lo -= 1;
  for (let k = 0; k < 100; k++) {
    const mid = (lo + hi) / 2;
    if (sumAt(mid) > total) lo = mid;
    else hi = mid;
  }
  const theta = (lo + hi) / 2;
  return v.map((x) => clip(x - theta));
}

/** The objective tests' rows of the evaluation batches, weighted so φ is J (mean-token losses). */
function objectiveQueries(
  setting: Setting,
  replay: ReplayableRun,
): { queries: Batch[]; objectives: LossObjective[] } {
  const rows = replay.recipe.evalRows;
  const weightOf = new Map(
    setting.objective.columns.map((z, j) => [z, setting.objective.weights[j]]),
  );
  const queries: Batch[] = [];
  const objectives: LossObjective[] = [];
  replay.probe.batches.forEach((batch, c) => {
    const rowWeights = Array.from({ length: batch.B }, (_, b) => weightOf.get(c * rows + b) ?? 0);
    if (!rowWeights.some((w) => w > 0)) return;
    queries.push(batch);
    objectives.push({
      weights: (prepared: PreparedBatch) =>
        prepared.exampleWeights.map((w, p) => w * rowWeights[Math.floor(p / prepared.T)]),
    });
  });
  return { queries, objectives };
}

export async function metagradientDescent(
  runtime: GpuRuntime,
  setting: Setting,
  replay: ReplayableRun,
  options: MetagradientOptions,
  progress: MethodProgress,
): Promise<MethodOutcome> {
  const started = performance.now();
  const { pool } = setting;
  const poolIndex = new Map(pool.map((id, i) => [id, i]));
  const free = pool.flatMap((id, i) => setting.keep.has(id) || setting.exclude.has(id) ? [] : [i]);
  const freeBudget = setting.keepCount - setting.keep.size;
  const w = new Float64Array(pool.length).fill(1);
  setting.pool.forEach((id, i) => setting.exclude.has(id) && (w[i] = 0));
  const { queries, objectives } = objectiveQueries(setting, replay);
  const T = replay.steps.length;
  const iterations: { objective: number; gradientNorm: number; replayError: number }[] = [];
  let gradient = new Float64Array(pool.length);
  let lastWeights = w.slice();
  let lastObjective = NaN;
  for (let it = 0; it < options.iterations; it++) {
    progress.signal.throwIfAborted();
    const own = it === 0 && setting.exclude.size === 0;
    const steps = replay.steps.map((step) => {
      const original = step.batch.dataWeights;
      const dataWeights = step.rowIds.map((id, b) => {
        const i = id === null ? undefined : poolIndex.get(id);
        return i === undefined ? (original?.[b] ?? 1) : w[i];
      });
      return { ...step, batch: { ...step.batch, dataWeights } };
    });
    const work = T + queries.length * 3 * T;
    const result = await computeMetagradients(runtime, {
      initial: replay.initial,
      optimizer: replay.recipe.optimizer,
      steps,
      queries,
      objectives,
      checkpointing: "sqrt",
      // Only the run's own weights have a recording to check the replay against.
      probe: own ? replay.probe : undefined,
    }, {
      signal: progress.signal,
      onProgress: (p) => {
        const done = p.phase === "forward" ? p.step : T + p.query * 3 * T + 3 * p.step;
        const within = Math.min(done / work, 1);
        progress.report({
          phase: `iteration ${it + 1}/${options.iterations}`,
          fraction: (it + within) / options.iterations,
          step: it + 1,
          total: options.iterations,
          unit: "iterations",
          message: `iteration ${
            it + 1
          }/${options.iterations}: ${p.phase} step ${p.step}/${p.steps}`,
          details: { iteration: it, objective: lastObjective },
        });
      },
    });
    lastObjective = result.finalLoss.reduce((a, b) => a + b, 0);
    gradient = new Float64Array(pool.length);
    result.trainIds.forEach((id, k) => {
      const i = poolIndex.get(id);
      if (i === undefined) return;
      for (let q = 0; q < queries.length; q++) {
        gradient[i] += result.tau[q * result.trainIds.length + k];
      }
    });
    let meanAbs = 0;
    for (const i of free) meanAbs += Math.abs(gradient[i]);
    meanAbs /= Math.max(free.length, 1);
    iterations.push({
      objective: lastObjective,
      gradientNorm: Math.sqrt(free.reduce((sum, i) => sum + gradient[i] * gradient[i], 0)),
      replayError: result.replayError,
    });
    lastWeights = w.slice();
    if (meanAbs > 0) {
      const moved = Float64Array.from(free, (i) => w[i] - options.stepSize * gradient[i] / meanAbs);
      const projected = projectOntoBudget(moved, freeBudget);
      free.forEach((i, k) => (w[i] = projected[k]));
    }
    progress.report({
      phase: `iteration ${it + 1}/${options.iterations}`,
      fraction: (it + 1) / options.iterations,
      step: it + 1,
      total: options.iterations,
      unit: "iterations",
      message: `iteration ${it + 1}/${options.iterations}: objective ${lastObjective.toFixed(5)}`,
      details: { iteration: it, objective: lastObjective },
    });
  }
  // Round: keep the free ids of largest weight (ties: the more helpful metagradient first).
  const ranked = free.slice().sort((a, b) => w[b] - w[a] || gradient[a] - gradient[b] || a - b);
  const keptIndex = new Set([
    ...pool.flatMap((id, i) => (setting.keep.has(id) ? [i] : [])),
    ...ranked.slice(0, freeBudget),
  ]);
  const kept = pool.filter((_, i) => keptIndex.has(i));
  const contributions = new Map(pool.map((id, i) => [id, gradient[i]]));
  const atLast = lastObjective;
  return {
    curriculum: { kept, order: baseOrder(setting) },
    predict: (c) => {
      const inSet = new Set(c.kept);
      let value = atLast;
      pool.forEach((id, i) => (value += gradient[i] * ((inSet.has(id) ? 1 : 0) - lastWeights[i])));
      return { objective: value, trajectory: null };
    },
    contributions,
    search: {
      algorithm: "metagradient descent on data weights, projected onto the budget, rounded to " +
        "the largest weights",
      iterations,
      stepSize: options.stepSize,
      finalWeights: Object.fromEntries(pool.map((id, i) => [id, w[i]])),
      seconds: (performance.now() - started) / 1000,
    },
    provenance: {
      run: replay.stored.id,
      checkpointing: "sqrt",
      prediction: "first order at the last iterate: J(w) + g·(x − w)",
    },
  };
}
