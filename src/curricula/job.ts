// The job behind POST /v1/curricula/optimize, built from its stored input alone (the request as
// resolved and the optimisation's id): it resolves the setting again, runs the method, predicts
// the chosen curriculum, the study's own and the random ones, stores that result at once, then
// verifies by training when asked. Progress: the method's phases (search | iteration k/n), then
// predict, then verify k/R+1.
import { ConflictError } from "../errors.ts";
import { type GpuHandle, requireRuntime, usableRuntime } from "../gpu/handle.ts";
import type { JobContext, JobKind } from "../jobs/manager.ts";
import { loadReplayableRun } from "../metagradients/replay.ts";
import { SIMULATORS } from "../simfluence/simulator_store.ts";
import { presentIds, type RunStep } from "../runs/run_input.ts";
import { RUNS } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";
import { baseOrder, type ChosenCurriculum, keptBatches, randomSubset } from "./curriculum.ts";
import type { MethodOutcome, MethodProgress, Prediction } from "./method.ts";
import { metagradientDescent } from "./metagradient_method.ts";
import { OPTIMIZE_DEFAULTS, type OptimizeRequest } from "./schemas.ts";
import { loadStudyScores, scoresMethod } from "./scores_method.ts";
import { resolveSetting, type Setting } from "./setting.ts";
import { simulatorSearch } from "./simulator_method.ts";
import { CURRICULA } from "./store.ts";
import { verifyByTraining } from "./verify.ts";

/** Searches by simulator or scores without verification run anywhere; the others need a GPU. */
export const OPTIMIZE_JOB_KINDS = {
  cpu: "curriculum-optimize",
  gpu: "curriculum-optimize-gpu",
} as const;

/** The kind a request's job is submitted as. */
export function optimizeJobKind(request: OptimizeRequest): string {
  return "metagradient" in request.method || request.verify
    ? OPTIMIZE_JOB_KINDS.gpu
    : OPTIMIZE_JOB_KINDS.cpu;
}

export interface OptimizeJobInput {
  optimization: string;
  study: string;
  /** The request as resolved (defaults applied), so the job and a resume can rebuild it. */
  request: OptimizeRequest;
}

export interface OptimizeJobDeps {
  store: Store;
  gpu: GpuHandle;
}

export const GPU_NEED = {
  what: "metagradients and verification runs need a GPU",
  noDevice: "no GPU device is available",
};

/** The method's name as the record keeps it. */
export function methodName(request: OptimizeRequest): "simulator" | "scores" | "metagradient" {
  return "simulator" in request.method
    ? "simulator"
    : "scores" in request.method
    ? "scores"
    : "metagradient";
}

/** How many random curricula are predicted (the first verify.runs are recorded). */
export function randomCount(request: OptimizeRequest): number {
  return Math.max(
    request.randomCurricula ?? request.verify?.runs ?? OPTIMIZE_DEFAULTS.randomCurricula,
    request.verify?.runs ?? 0,
  );
}

async function runMethod(
  deps: OptimizeJobDeps,
  setting: Setting,
  request: OptimizeRequest,
  progress: MethodProgress,
): Promise<MethodOutcome> {
  const method = request.method;
  if ("simulator" in method) {
    const sim = await deps.store.get(SIMULATORS).load(method.simulator, setting.testIds);
    const search = { ...OPTIMIZE_DEFAULTS.search, ...request.search };
    return await simulatorSearch(
      setting,
      sim,
      {
        ...search,
        optimizeOrder: request.order === "optimize",
        seed: request.seed,
        fittedPresent: search.stepEffect === "mean"
          ? await meanEntriesPerStep(deps.store, [
            ...sim.record.trainRuns,
            ...sim.record.validationRuns,
          ], setting)
          : null,
      },
      progress,
      searchRuntime(deps.gpu),
    );
  }
  if ("scores" in method) {
    const set = await loadStudyScores(deps.store, setting, method.scores);
    return scoresMethod(setting, set);
  }
  const runtime = requireRuntime(deps.gpu, GPU_NEED);
  const replay = await loadReplayableRun(deps.store, setting.base.id);
  return await metagradientDescent(runtime, setting, replay, {
    iterations: method.metagradient.iterations,
    stepSize: method.metagradient.stepSize ?? OPTIMIZE_DEFAULTS.stepSize,
  }, progress);
}

/**
 * Mean trained entries per step over the simulator's fitting runs that still exist (the base run's
 * when none does).
 */
async function meanEntriesPerStep(
  store: Store,
  runIds: readonly string[],
  setting: Setting,
): Promise<number> {
  const runs = store.get(RUNS);
  let entries = 0, steps = 0;
  const count = (run: { steps: RunStep[] }) => {
    for (const step of run.steps) {
      entries += presentIds(step).length;
      steps++;
    }
  };
  for (const id of new Set(runIds)) if (runs.get(id)) count((await runs.load(id)).run);
  if (steps === 0) count(setting.base.run);
  return steps === 0 ? 1 : entries / steps;
}

const mean = (values: (number | null)[]) =>
  values.some((v) => v === null) || values.length === 0
    ? null
    : values.reduce((a, b) => a! + b!, 0)! / values.length;

function contributionsOf(outcome: MethodOutcome, ids: readonly string[]) {
  return ids.map((id) => ({ id, contribution: outcome.contributions.get(id) ?? null }))
    .sort((a, b) => (a.contribution ?? 0) - (b.contribution ?? 0));
}

export function optimizeJob(deps: OptimizeJobDeps) {
  return async (ctx: JobContext<OptimizeJobInput>) => {
    const started = performance.now();
    const { request, optimization } = ctx.input;
    const records = deps.store.get(CURRICULA);
    const setting = await resolveSetting(deps.store, request);
    const verifyRuns = request.verify?.runs ?? 0;
    // The job's share of each stage: verification dominates when asked.
    const searchShare = verifyRuns > 0 ? 0.4 : 0.95;
    const stage = (from: number, share: number): MethodProgress => ({
      signal: ctx.signal,
      report: (u) => ctx.progress({ ...u, fraction: from + share * (u.fraction ?? 0) }),
    });
    ctx.progress({ phase: "search", fraction: 0 });
    const outcome = await runMethod(deps, setting, request, stage(0, searchShare));
    ctx.signal.throwIfAborted();
    ctx.progress({ phase: "predict", fraction: searchShare });
    const own: ChosenCurriculum = {
      kept: setting.pool.filter((id) => !setting.exclude.has(id)),
      order: baseOrder(setting),
    };
    const random = Array.from({ length: randomCount(request) }, (_, r) => ({
      kept: randomSubset(setting, request.seed, r),
      order: baseOrder(setting),
    }));
    const predictedOptimized: Prediction = outcome.predict(outcome.curriculum);
    const predictedRandom = random.map((c) => ({ ...outcome.predict(c), kept: c.kept.length }));
    const randomMean = mean(predictedRandom.map((p) => p.objective));
    const keptSet = new Set(outcome.curriculum.kept);
    const result = {
      curriculum: { ...outcome.curriculum, batches: keptBatches(setting, outcome.curriculum) },
      predicted: {
        optimized: predictedOptimized,
        own: outcome.predict(own),
        random: predictedRandom,
        randomMean,
        improvement: randomMean === null || predictedOptimized.objective === null
          ? null
          : randomMean - predictedOptimized.objective,
      },
      changes: {
        added: [],
        dropped: contributionsOf(outcome, setting.pool.filter((id) => !keptSet.has(id))),
        kept: contributionsOf(outcome, outcome.curriculum.kept),
      },
      search: outcome.search,
      provenance: {
        method: request.method,
        study: setting.study,
        baseRun: setting.base.id,
        objective: {
          tests: setting.objective.tests,
          weights: setting.objective.weights,
          at: setting.objective.at,
        },
        budget: { keep: setting.keepCount, of: setting.pool.length },
        keep: [...setting.keep],
        exclude: [...setting.exclude],
        order: request.order,
        seed: request.seed,
        randomCurricula: random.length,
        ...outcome.provenance,
        versions: { optimizer: 1, curriculum: "base run's batches, dropped ids weighted 0" },
        createdBy: `job ${ctx.id}`,
      },
      seconds: (performance.now() - started) / 1000,
    };
    if (!records.setResult(optimization, result)) {
      throw new ConflictError(
        `optimization ${optimization} was deleted or stopped while it ran`,
        { optimization },
      );
    }
    ctx.keep({ optimization, result: "search stored" });
    if (verifyRuns > 0) {
      const runtime = requireRuntime(deps.gpu, GPU_NEED);
      await verifyByTraining(
        runtime,
        deps.store,
        setting,
        {
          optimized: outcome.curriculum,
          random: random.slice(0, verifyRuns),
          predictedOptimized: predictedOptimized.objective,
          predictedRandom: predictedRandom.slice(0, verifyRuns).map((p) => p.objective),
          namePrefix: `optimize-${optimization.slice(0, 8)}`,
          resamples: request.verify?.resamples ?? OPTIMIZE_DEFAULTS.bootstrap.resamples,
          confidence: OPTIMIZE_DEFAULTS.bootstrap.confidence,
          seed: request.seed,
        },
        stage(searchShare, 1 - searchShare),
        (verification) => {
          records.setVerification(optimization, verification);
          ctx.keep({
            optimization,
            verificationRuns: verification.runs.map((r) => r.run),
          });
        },
      );
    }
    if (!records.markReady(optimization)) {
      throw new ConflictError(
        `optimization ${optimization} was deleted or stopped while it ran`,
        { optimization },
      );
    }
    return { optimization, seconds: (performance.now() - started) / 1000 };
  };
}

/**
 * The job kinds: any node builds the handler from the stored input alone. A record deleted or
 * stopped meanwhile makes the job fail at its first write, leaving nothing behind but the runs it
 * recorded.
 */
export function optimizeJobKindSpec(
  deps: OptimizeJobDeps,
  needs: "cpu" | "gpu",
): JobKind<OptimizeJobInput> {
  return { needs, build: () => Promise.resolve(optimizeJob(deps)) };
}

/**
 * The GPU that rolls the search's candidates out, or null for the float64 CPU path. A software
 * adapter (llvmpipe) is passed over: there the CPU path measured about 20× faster (bench --suite
 * optimize: 25,533 against 1,305 curricula/s), and the GPU path helps only on a real GPU. The
 * CPU backend (SIMFLUENCE_BACKEND=cpu) takes the CPU path itself: it is that path.
 */
function searchRuntime(gpu: GpuHandle) {
  const runtime = usableRuntime(gpu);
  return runtime && !runtime.isHost && !gpu.describe()?.isFallbackAdapter ? runtime : null;
}
