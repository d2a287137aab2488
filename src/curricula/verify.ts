// Verification by training: real runs from the base run's model and dataset with its optimiser,
// schedule, batch shapes and seed, one on the optimised curriculum and R on random curricula of
// the same budget (dropped ids keep their batch slots with data weight 0, as mask runs do). Each
// run is stored in the study as it finishes and listed in the optimisation's verification at
// once, so a cancelled verification keeps them (marked). The observed improvement over the random
// mean gets seeded percentile-bootstrap intervals: over the random runs, and over the random runs
// and the objective's test examples together.
import { loadDatasetExamples } from "../datasets/load.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { replaySource, requireReplayModel } from "../metagradients/replay.ts";
import { loadModel } from "../models/load.ts";
import { seededUniform } from "../random.ts";
import { distinctIds } from "../runs/run_input.ts";
import { RUNS } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";
import type { TrainingRecipe } from "../training/recipe.ts";
import { recordRuns } from "../training/recorder.ts";
import { type ChosenCurriculum, objectiveOnTests } from "./curriculum.ts";
import type { MethodProgress } from "./method.ts";
import type { Setting } from "./setting.ts";

export interface VerifiedRun {
  kind: "optimized" | "random";
  /** The random curriculum's index; null for the optimised one. */
  index: number | null;
  run: string;
  name: string;
  observed: number;
  predicted: number | null;
  cancelled: boolean;
}

export interface Verification {
  status: "running" | "complete" | "cancelled" | "failed";
  runs: VerifiedRun[];
  observed: {
    optimized: number;
    randomMean: number;
    improvement: number;
    interval: { lower: number; upper: number; confidence: number };
    overTests: { lower: number; upper: number; confidence: number };
    bootstrap: { resamples: number; seed: number; resampled: string };
  } | null;
  predicted: { improvement: number | null } | null;
}

export interface VerifyPlan {
  optimized: ChosenCurriculum;
  random: ChosenCurriculum[];
  predictedOptimized: number | null;
  predictedRandom: (number | null)[];
  /** Names the runs: `<prefix>-optimized`, `<prefix>-random-<r>`. */
  namePrefix: string;
  resamples: number;
  confidence: number;
  seed: number;
}

/** The base run's recipe, model and dataset (409 when it cannot be replayed), checked up front. */
export function requireRecordable(store: Store, setting: Setting, field: string): void {
  const source = replaySource(store, setting.base.id, field);
  requireReplayModel(store, setting.base.id, source, field);
}

/** The percentile interval of bootstrap draws. */
function percentile(draws: number[], confidence: number) {
  draws.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const at = (q: number) =>
    draws[Math.min(draws.length - 1, Math.max(0, Math.floor(q * draws.length)))];
  return { lower: at(tail), upper: at(1 - tail), confidence };
}

/**
 * Mean of the random runs minus the optimised run's objective, with seeded percentile bootstraps:
 * `interval` resamples the random runs (the objective's tests are the user's, fixed);
 * `overTests` resamples the random runs and the objective's test examples together (would the
 * gain hold on other tests like these).
 */
export function improvementInterval(
  setting: Setting,
  optimized: Float32Array,
  random: readonly Float32Array[],
  options: { resamples: number; seed: number; confidence: number },
): NonNullable<Verification["observed"]> {
  const m = setting.testIds.length;
  const s = setting.objective.tests.length;
  const all = Array.from({ length: s }, (_, j) => j);
  const observedOf = (losses: Float32Array, picks: number[]) =>
    objectiveOnTests(setting.objective, losses, m, picks);
  const optimizedValue = observedOf(optimized, all);
  const randomValues = random.map((losses) => observedOf(losses, all));
  const randomMean = randomValues.reduce((a, b) => a + b, 0) / randomValues.length;
  const uniform = seededUniform(options.seed >>> 0);
  const overRuns: number[] = [];
  for (let b = 0; b < options.resamples; b++) {
    let mean = 0;
    for (let k = 0; k < random.length; k++) {
      mean += randomValues[Math.floor(uniform() * random.length)];
    }
    overRuns.push(mean / random.length - optimizedValue);
  }
  const overTests: number[] = [];
  for (let b = 0; b < options.resamples; b++) {
    const picks = Array.from({ length: s }, () => Math.floor(uniform() * s));
    let mean = 0;
    for (let k = 0; k < random.length; k++) {
      mean += observedOf(random[Math.floor(uniform() * random.length)], picks);
    }
    overTests.push(mean / random.length - observedOf(optimized, picks));
  }
  return {
    optimized: optimizedValue,
    randomMean,
    improvement: randomMean - optimizedValue,
    interval: percentile(overRuns, options.confidence),
    overTests: percentile(overTests, options.confidence),
    bootstrap: {
      resamples: options.resamples,
      seed: options.seed,
      resampled: "interval: the random runs; overTests: the random runs and the objective's " +
        "test examples together",
    },
  };
}

/**
 * Records the runs one after another; `onRun` gets the verification so far after each is stored.
 * Throws the signal's reason when cancelled, after marking the runs it kept.
 */
export async function verifyByTraining(
  runtime: GpuRuntime,
  store: Store,
  setting: Setting,
  plan: VerifyPlan,
  progress: MethodProgress,
  onRun: (verification: Verification) => void,
): Promise<Verification> {
  const source = replaySource(store, setting.base.id, "baseRun");
  requireReplayModel(store, setting.base.id, source, "baseRun");
  const model = await loadModel(store, source.model);
  const needed = new Set([...distinctIds(setting.base.run.steps), ...setting.testIds]);
  const examples = (await loadDatasetExamples(store, source.dataset)).filter((e) =>
    needed.has(e.id)
  );
  const byId = new Map(examples.map((e) => [e.id, e]));
  const trainExamples = distinctIds(setting.base.run.steps).map((id) => byId.get(id)!);
  const testExamples = setting.testIds.map((id) => byId.get(id)!);
  const recipe = source.recipe;
  const verification: Verification = {
    status: "running",
    runs: [],
    observed: null,
    predicted: null,
  };
  const plans = [
    { kind: "optimized" as const, index: null, curriculum: plan.optimized },
    ...plan.random.map((curriculum, r) => ({ kind: "random" as const, index: r, curriculum })),
  ];
  const losses: Float32Array[] = [];
  const all = Array.from({ length: setting.objective.tests.length }, (_, j) => j);
  const T = setting.base.run.steps.length;
  const dropFraction = 1 - setting.keepCount / setting.pool.length;
  try {
    for (const [k, item] of plans.entries()) {
      const kept = new Set(item.curriculum.kept);
      const inOrder = item.curriculum.order.every((b, t) => b === t);
      const weights = new Map<string, number>();
      for (const step of setting.base.run.steps) {
        step.weights?.forEach((w, j) => w !== 1 && weights.set(step.batch[j], w));
      }
      for (const id of setting.pool) if (!kept.has(id)) weights.set(id, 0);
      const name = item.kind === "optimized"
        ? `${plan.namePrefix}-optimized`
        : `${plan.namePrefix}-random-${item.index}`;
      const predicted = item.kind === "optimized"
        ? plan.predictedOptimized
        : plan.predictedRandom[item.index!] ?? null;
      // A retry of this job (its node died) finds the runs its earlier attempt stored: it reads
      // them back instead of training them again (run names are unique in a study).
      const earlier = store.get(RUNS).byName(setting.study, name);
      if (earlier) {
        const { run } = await store.get(RUNS).load(earlier.id);
        losses.push(run.losses);
        verification.runs.push({
          kind: item.kind,
          index: item.index,
          run: earlier.id,
          name,
          observed: objectiveOnTests(setting.objective, run.losses, setting.testIds.length, all),
          predicted,
          cancelled: false,
        });
        onRun(verification);
        continue;
      }
      const runs = recordRuns({
        runtime,
        config: model.config,
        baseParams: model.params,
        tokenizer: model.tokenizer,
        trainExamples,
        testExamples,
        study: setting.study,
        runName: () => name,
        runs: 1,
        batchSize: recipe.rows,
        optimizer: recipe.optimizer,
        curriculum: { batches: item.curriculum.order.map((b) => setting.base.run.steps[b].batch) },
        seed: recipe.seed,
        evalBatchSize: recipe.evalRows,
        contextLength: recipe.contextLength,
        dataWeights: () => weights,
        signal: progress.signal,
        onProgress: (p) =>
          progress.report({
            phase: `verify ${k + 1}/${plans.length}`,
            fraction: (k + p.step / p.steps) / plans.length,
            step: k * T + p.step,
            total: plans.length * T,
            unit: "steps",
            message: `${
              item.kind === "optimized"
                ? "optimised curriculum"
                : `random curriculum ${item.index! + 1}`
            }: step ${p.step}/${p.steps}`,
          }),
      });
      for await (const { run } of runs) {
        // In the base order a verification run is a mask run of the base run (LDS can use it).
        const { mask: _baseMask, ...rest } = recipe;
        const training: TrainingRecipe = {
          ...rest,
          run: k,
          ...(inOrder ? { mask: { baseRun: setting.base.id, dropFraction } } : {}),
        };
        const stored = await store.get(RUNS).create(run, "training", [], {
          model: source.model,
          dataset: source.dataset,
          training,
        });
        losses.push(run.losses);
        verification.runs.push({
          kind: item.kind,
          index: item.index,
          run: stored.id,
          name: run.name,
          observed: objectiveOnTests(setting.objective, run.losses, setting.testIds.length, all),
          predicted,
          cancelled: false,
        });
        onRun(verification);
      }
    }
  } catch (error) {
    verification.status = progress.signal.aborted ? "cancelled" : "failed";
    for (const run of verification.runs) run.cancelled = true;
    onRun(verification);
    throw error;
  }
  verification.observed = improvementInterval(setting, losses[0], losses.slice(1), plan);
  const predictedRandom = plan.predictedRandom.slice(0, plan.random.length);
  verification.predicted = {
    improvement: plan.predictedOptimized === null || predictedRandom.some((v) => v === null)
      ? null
      : predictedRandom.reduce((a, b) => a! + b!, 0)! / predictedRandom.length -
        plan.predictedOptimized,
  };
  verification.status = "complete";
  onRun(verification);
  return verification;
}
