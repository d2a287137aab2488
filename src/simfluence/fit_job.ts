// The background job that fits a simulator: load the runs, solve (GPU when there is one, CPU CG
// otherwise), store the parameters, mark the simulator ready. A failed or cancelled fit leaves the
// simulator marked so and no parameters file behind; a cancel marks it cancelled at once.

import type { GpuRuntime } from "../gpu/runtime.ts";
import type { JobContext } from "../jobs/manager.ts";
import type { RunStore } from "../runs/run_store.ts";
import { fitSimulator, type RidgeSolverChoice } from "./math/fit.ts";
import { fitScoresSimulatorCooperative } from "./math/scores.ts";
import type { SimulatorKind } from "./math/types.ts";
import { type StudyScoreSet, trainMajorScores } from "./score_set.ts";
import type { SimulatorStore } from "./simulator_store.ts";
import { TimeSlice } from "./math/time_slice.ts";
import {
  indexOfIds,
  loadStudyRuns,
  meanInitialLoss,
  studyTrainIds,
  toMathRunCooperative,
} from "./study_runs.ts";

/**
 * The service's fitting defaults, in one place. The math keeps its own fallbacks for direct
 * callers (tests, benchmarks); the service always passes these explicitly.
 */
export const FIT_DEFAULTS = {
  /** λ when a request gives none: picked from the grid by held-out MSE. */
  lambda: "auto",
  /**
   * CG stops a test example at ||r|| <= tol·||b||. The float32 GPU solver cannot go much below
   * 1e-5; the float64 CPU fallback reaches 1e-8. (The λ trials use max(tol, 1e-4) either way.)
   */
  cgTolerance: { gpu: 1e-5, "cpu-cg": 1e-8 },
} as const satisfies {
  lambda: number | "auto";
  cgTolerance: Record<Exclude<RidgeSolverChoice, "cpu-cholesky">, number>;
};

/** The solver a fit uses (the GPU when there is one, else CPU CG) and its tolerance. */
export function fitSolver(runtime: GpuRuntime | null): {
  solver: "gpu" | "cpu-cg";
  tol: number;
} {
  const solver = runtime ? "gpu" : "cpu-cg";
  return { solver, tol: FIT_DEFAULTS.cgTolerance[solver] };
}

export interface FitJobInput {
  simulator: string;
  study: string;
  kind: SimulatorKind;
  trainRuns: string[];
  validationRuns: string[];
  /** The requested λ factor or "auto"; null for kind "scores", which fits no λ. */
  lambda: number | "auto" | null;
  /** The request as sent, so that POST /v1/jobs/:id/resume can start the fit again. */
  request?: unknown;
}

export interface FitJobDeps {
  runs: RunStore;
  simulators: SimulatorStore;
  runtime: GpuRuntime | null;
  /** For kind "scores": I(z, i) as test id → train id → score. */
  scores?: Record<string, Record<string, number>>;
  /**
   * For kind "scores", instead of `scores`: a stored score set (pairs it lacks count as 0; the
   * service has checked them or was told `"missing": "zero"`), and how many pairs the fitting
   * runs need that it lacks.
   */
  scoreSet?: { set: StudyScoreSet; zeroFilledPairs: number };
}

export function fitJob(deps: FitJobDeps) {
  return async (ctx: JobContext<FitJobInput>) => {
    const input = ctx.input;
    // A cancel marks the simulator at once, so a fit that still finishes cannot make it ready.
    const onAbort = () => deps.simulators.markFinished(input.simulator, "cancelled", null);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    try {
      ctx.progress({ phase: "loading runs", fraction: 0 });
      const testIds = deps.runs.studyTestExamples(input.study) ?? [];
      // Loops over the study's training ids give the event loop turns (so do the solvers'):
      // a fit never stalls the service's requests, whatever the study's size.
      const slice = new TimeSlice(ctx.signal);
      const fitting = [
        ...(await loadStudyRuns(deps.runs, input.study, input.trainRuns, "trainRuns", slice)),
        ...(await loadStudyRuns(
          deps.runs,
          input.study,
          input.validationRuns,
          "validationRuns",
          slice,
        )),
      ];
      const trainIds = await studyTrainIds(deps.runs, input.study, slice, fitting);
      const index = await indexOfIds(trainIds, slice);
      ctx.signal.throwIfAborted();
      const universe = { trainIds, testIds };
      const runs = [];
      for (const r of fitting) runs.push(await toMathRunCooperative(r, index, slice));
      const initialLoss = meanInitialLoss(fitting, testIds.length);

      let fitted;
      if (input.kind === "scores") {
        ctx.progress({ phase: "fitting scale", fraction: 0.5 });
        const scores = deps.scoreSet
          ? trainMajorScores(deps.scoreSet.set, trainIds, testIds)
          : scoresMatrix(deps.scores ?? {}, trainIds, testIds);
        const result = await fitScoresSimulatorCooperative(
          universe,
          runs,
          scores,
          "train-major",
          slice,
        );
        fitted = {
          params: result.params,
          fit: {
            solver: "closed-form",
            transitionMse: result.transitionMse,
            ...(deps.scoreSet
              ? {
                scoreSet: deps.scoreSet.set.id,
                zeroFilledPairs: deps.scoreSet.zeroFilledPairs,
              }
              : {}),
          },
        };
      } else {
        if (input.lambda === null) throw new Error(`a ${input.kind} fit needs a λ or "auto"`);
        const validation = input.validationRuns.map((_, k) => input.trainRuns.length + k);
        const result = await fitSimulator(deps.runtime, universe, runs, {
          kind: input.kind,
          lambdaFactor: input.lambda,
          ...fitSolver(deps.runtime),
          validationRuns: validation.length > 0 ? validation : undefined,
          signal: ctx.signal,
          // Loading takes the first 2 %, storing the last 3 %; the solves, counted in `step` of
          // `total` (λ trials expected so far, then the refit), the rest, in time.
          onProgress: (p) =>
            ctx.progress({
              phase: p.phase === "lambda-search" ? "lambda search" : "final solve",
              fraction: 0.02 + 0.95 * p.fraction,
              step: p.solvesDone,
              total: p.solves,
              unit: "solves",
              message: `λ factor ${p.lambdaFactor}: ${p.iterations} CG iterations`,
              details: { lambdaFactor: p.lambdaFactor, iterations: p.iterations },
            }),
        });
        const { report } = result;
        fitted = {
          params: result.params,
          fit: {
            solver: report.solver,
            iterations: {
              max: Math.max(0, ...report.iterations),
              mean: report.iterations.reduce((a, b) => a + b, 0) /
                Math.max(1, report.iterations.length),
            },
            relativeResidual: {
              max: Math.max(0, ...report.relativeResidual),
              mean: report.relativeResidual.reduce((a, b) => a + b, 0) /
                Math.max(1, report.relativeResidual.length),
            },
            converged: report.converged,
            lambdaSelection: result.lambdaSelection,
            lambdaTrials: result.lambdaTrials,
            seconds: result.seconds,
          },
        };
      }
      ctx.signal.throwIfAborted();
      ctx.progress({ phase: "storing", fraction: 0.97 });
      const marked = await deps.simulators.markReady(input.simulator, {
        params: fitted.params,
        trainIds,
        initialLoss,
        fit: { ...fitted.fit, trainExamples: trainIds.length, transitions: countSteps(runs) },
      }, testIds);
      // Not marked: deleted or cancelled meanwhile, or fitted by another attempt of the same job
      // (which stands); markReady removed the file it wrote.
      if (!marked && deps.simulators.get(input.simulator)?.status !== "ready") {
        ctx.signal.throwIfAborted();
        throw new Error(`simulator ${input.simulator} is no longer fitting`);
      }
      return { simulator: input.simulator, ...fitted.fit };
    } catch (e) {
      const cancelled = ctx.signal.aborted;
      deps.simulators.markFinished(
        input.simulator,
        cancelled ? "cancelled" : "failed",
        cancelled ? null : e instanceof Error ? e.message : String(e),
      );
      throw e;
    } finally {
      ctx.signal.removeEventListener("abort", onAbort);
    }
  };
}

function countSteps(runs: readonly { batches: readonly unknown[] }[]): number {
  return runs.reduce((acc, r) => acc + r.batches.length, 0);
}

/** n x m train-major scores; pairs the caller did not give are 0. */
export function scoresMatrix(
  scores: Record<string, Record<string, number>>,
  trainIds: readonly string[],
  testIds: readonly string[],
): Float32Array {
  const m = testIds.length;
  const trainIndex = new Map(trainIds.map((id, i) => [id, i]));
  const out = new Float32Array(trainIds.length * m);
  testIds.forEach((test, z) => {
    for (const [train, value] of Object.entries(scores[test] ?? {})) {
      const i = trainIndex.get(train);
      if (i !== undefined) out[i * m + z] = value;
    }
  });
  return out;
}
