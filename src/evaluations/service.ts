// Evaluations that rank attribution methods on the same held-out runs. The linear datamodeling
// score (POST /v1/evaluations/lds): the request is checked in full (study, runs, the method's
// coverage of the study, the fitting-runs rule) before anything is kept; then an evaluation record
// is kept ("running") and a job predicts each run's final losses with the method, compares them
// with the observed ones, and stores the LDS in the record (GET /v1/evaluations/{id}) as well as
// in the job's result.
import { z } from "@hono/zod-openapi";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { usableRuntime } from "../gpu/handle.ts";
import type { JobKind } from "../jobs/manager.ts";
import { runInStudy } from "../runs/run_reference.ts";
import { RUNS, type StoredRun } from "../runs/run_store.ts";
import { fittingRunsAmong, type IdList, predictFinalLosses } from "../simfluence/evaluate.ts";
import {
  loadPairwiseScoreSet,
  observedFinalLosses,
  requireCoverage,
  runTrainIds,
  scoreSetFinalLosses,
} from "../simfluence/score_set.ts";
import { RunIdsSchema, type SimfluenceDeps } from "../simfluence/service.ts";
import { SIMULATORS } from "../simfluence/simulator_store.ts";
import { type LdsSummary, linearDatamodelingScore } from "./lds.ts";
import { maskDrops, maskScoreSetFinalLosses } from "./mask.ts";
import { type EvaluationRecord, EVALUATIONS } from "./store.ts";

/** Fewest runs an LDS is computed over: Spearman's ρ over fewer is too coarse to rank methods. */
export const MIN_LDS_RUNS = 5;

export const LDS_DEFAULTS = { resamples: 1000, seed: 0, confidence: 0.95 } as const;

export const LdsRequestSchema = z.object({
  study: z.string().min(1).max(256),
  runs: RunIdsSchema.min(MIN_LDS_RUNS).openapi({
    description: `At least ${MIN_LDS_RUNS} runs of the study, each listed once; held-out runs ` +
      '(e.g. recorded with curriculum "subsample") are the intended input.',
  }),
  method: z.union([
    z.object({ simulator: z.string().min(1).max(256) }).strict(),
    z.object({ scores: z.string().min(1).max(256) }).strict(),
  ]).openapi({
    description: "A ready simulator of the study (its rollout of each run's curriculum from the " +
      "run's L_0), or a ready pairwise influence score set covering every test example × every " +
      "training id of the runs (L_0(z) − Σ τ(z, i) over the run's batch entries).",
  }),
  baseRun: z.string().min(1).max(256).optional().openapi({
    description: "The single-model setting (MATH.md §7): a run of the study (id or name) that " +
      'every listed run is a mask run of (curriculum "mask": its batches, with some ids weighted ' +
      "0; else a 400 naming the run). A score set then predicts a run's final loss as the base " +
      "run's plus the scores of the ids it dropped, each once; a simulator rolls out each run's " +
      "curriculum without its weight-0 entries, as without baseRun.",
  }),
  allowFittingRuns: z.boolean().default(false).openapi({
    description: "Simulator method: accept runs the simulator was fitted on (they flatter it; " +
      "else a 409 naming them); they are listed under `fittingRuns`",
  }),
  bootstrap: z.object({
    resamples: z.number().int().min(100).max(100_000).default(LDS_DEFAULTS.resamples),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(LDS_DEFAULTS.seed),
  }).strict().optional().openapi({
    description: "Percentile bootstrap of the mean over test examples (default 1000 resamples, " +
      "seed 0); the interval is 95 %.",
  }),
}).strict().openapi("LdsRequest");

export type LdsRequest = z.infer<typeof LdsRequestSchema>;

export type LdsMethod = { simulator: string } | { scores: string };

export interface LdsResult {
  study: string;
  method: LdsMethod;
  /** How the method predicts a run's final loss. */
  prediction: string;
  runs: string[];
  /** The base run the runs are mask runs of (with baseRun); else null. */
  baseRun: string | null;
  /** Spearman's ρ over the runs per test example (null: constant on one side, left out). */
  tests: { test: string; spearman: number | null }[];
  /** Mean ρ over the test examples that have one. */
  lds: number | null;
  interval: { lower: number; upper: number; confidence: number } | null;
  scoredTests: number;
  constantTests: number;
  /** Simulator method: the evaluated runs it was fitted on (with allowFittingRuns); else none. */
  fittingRuns: IdList;
  bootstrap: { resamples: number; seed: number; resampled: "test examples"; method: "percentile" };
}

const SIMULATOR_PREDICTION = "the simulator's rollout of the run's curriculum from the run's L_0";
const SCORES_PREDICTION = "L_0(z) − Σ_{i ∈ run} τ(z, i) over the run's batch entries (scale 1)";
const MASK_SCORES_PREDICTION = "L_T^base(z) + Σ_{i dropped in the run} τ(z, i), each dropped " +
  "training id once (the base run's final loss plus the scores of what the mask removed)";

/** The base run and the ids each listed run drops from it (LDS with baseRun). */
interface MaskSetting {
  base: StoredRun;
  drops: string[][];
}

/** With baseRun: the base (a run of the study) and each run's drops; 400s name the field. */
async function loadMaskSetting(
  deps: LdsDeps,
  request: LdsRequest,
  runs: readonly StoredRun[],
): Promise<MaskSetting | null> {
  if (request.baseRun === undefined) return null;
  const store = deps.store.get(RUNS);
  const { id } = runInStudy(store, request.study, request.baseRun, "baseRun");
  const base = await store.load(id);
  return { base, drops: maskDrops(base, runs) };
}

/** Each run once, in the study, by id or name (400s name `runs.k`). */
async function loadRuns(deps: LdsDeps, request: LdsRequest): Promise<StoredRun[]> {
  const runs = deps.store.get(RUNS);
  const seen = new Map<string, number>();
  const loaded: StoredRun[] = [];
  for (const [k, ref] of request.runs.entries()) {
    const { id } = runInStudy(runs, request.study, ref, `runs.${k}`);
    if (seen.has(id)) {
      throw new InvalidInputError(
        `runs.${k}: run ${ref} is already listed as runs.${seen.get(id)}`,
        { field: `runs.${k}`, run: id },
      );
    }
    seen.set(id, k);
    loaded.push(await runs.load(id));
  }
  return loaded;
}

/** Predicted final losses, R x m; `progress` gets the fraction of runs done. */
type Predictor = (signal: AbortSignal, progress: (fraction: number) => void) => Promise<
  Float64Array
>;

/** Checks the method against the study and returns how it predicts, before any job exists. */
async function preparePredictor(
  deps: LdsDeps,
  request: LdsRequest,
  testIds: string[],
  runs: StoredRun[],
  mask: MaskSetting | null,
): Promise<{ predict: Predictor; prediction: string; fittingRuns: IdList }> {
  const method: LdsMethod = request.method;
  if ("simulator" in method) {
    const record = deps.store.get(SIMULATORS).require(method.simulator);
    if (record.study !== request.study) {
      throw new InvalidInputError(
        `method.simulator: simulator ${record.id} was fitted on study "${record.study}", not ` +
          `"${request.study}"`,
        { field: "method.simulator", simulator: record.id, study: record.study },
      );
    }
    const fittingRuns = fittingRunsAmong(
      record,
      runs.map((r) => r.id),
      request.allowFittingRuns,
    );
    const sim = await deps.store.get(SIMULATORS).load(method.simulator, testIds);
    const runtime = usableRuntime(deps.gpu);
    return {
      prediction: SIMULATOR_PREDICTION,
      fittingRuns,
      predict: (signal, progress) =>
        predictFinalLosses(runtime, sim, runs, (done) => {
          signal.throwIfAborted();
          progress(done / runs.length);
        }),
    };
  }
  const set = await loadPairwiseScoreSet(deps.store, method.scores, "method.scores");
  if (mask) {
    const dropped = [...new Set(mask.drops.flat())];
    requireCoverage(set, testIds, dropped, "method.scores");
    return {
      prediction: MASK_SCORES_PREDICTION,
      fittingRuns: { ids: [], total: 0 },
      predict: (_signal, progress) => {
        const out = maskScoreSetFinalLosses(set, testIds, mask.base, mask.drops);
        progress(1);
        return Promise.resolve(out);
      },
    };
  }
  requireCoverage(set, testIds, runTrainIds(runs), "method.scores");
  return {
    prediction: SCORES_PREDICTION,
    fittingRuns: { ids: [], total: 0 },
    predict: (_signal, progress) => {
      const out = scoreSetFinalLosses(set, testIds, runs);
      progress(1);
      return Promise.resolve(out);
    },
  };
}

/** What a kept LDS evaluation records of its request (defaults applied). */
export interface LdsRecordRequest {
  runs: string[];
  /** The base run every run is a mask run of (LDS in the single-model setting); else null. */
  baseRun?: string | null;
  allowFittingRuns: boolean;
  bootstrap: { resamples: number; seed: number };
}

/** What a kept LDS evaluation records of its result. */
export type LdsRecordResult = Omit<LdsResult, "study" | "method" | "runs" | "baseRun">;

export type LdsRecord = EvaluationRecord<LdsMethod, LdsRecordRequest, LdsRecordResult>;

/** What an LDS job needs besides the store and the GPU. */
type LdsDeps = Pick<SimfluenceDeps, "store" | "gpu">;

/** What an LDS job stores: the evaluation it fills, and the request to plan it again. */
interface LdsJobInput {
  evaluation: string;
  study: string;
  runs: string[];
  baseRun: string | null;
  method: LdsMethod;
  allowFittingRuns: boolean;
  bootstrap: { resamples: number; seed: number };
  request: LdsRequest;
}

/**
 * Checks the request in full, then keeps an evaluation record ("running") and queues the job that
 * computes its LDS; the record and the job's id.
 */
export async function startLds(
  deps: SimfluenceDeps,
  request: LdsRequest,
): Promise<{ evaluation: LdsRecord; job: string }> {
  const { runIds, baseRun, bootstrap } = await planLds(deps, request);
  const evaluations = deps.store.get(EVALUATIONS);
  const record = evaluations.create<LdsMethod, LdsRecordRequest>({
    kind: "lds",
    study: request.study,
    method: request.method,
    request: { runs: runIds, baseRun, allowFittingRuns: request.allowFittingRuns, bootstrap },
  });
  const input: LdsJobInput = {
    evaluation: record.id,
    study: request.study,
    runs: runIds,
    baseRun,
    method: request.method,
    allowFittingRuns: request.allowFittingRuns,
    bootstrap,
    request,
  };
  const job = deps.jobs.submit("lds", input);
  evaluations.setJob(record.id, job.id);
  keepInStep(deps, record.id, job.id);
  return { evaluation: evaluations.get(record.id)!, job: job.id };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planLds(deps: LdsDeps, request: LdsRequest) {
  const testIds = deps.store.get(RUNS).studyTestExamples(request.study);
  if (!testIds) throw new NotFoundError(`study "${request.study}"`, { field: "study" });
  const runs = await loadRuns(deps, request);
  const runIds = runs.map((run) => run.id);
  const mask = await loadMaskSetting(deps, request, runs);
  const baseRun = mask?.base.id ?? null;
  const { predict, prediction, fittingRuns } = await preparePredictor(
    deps,
    request,
    testIds,
    runs,
    mask,
  );
  const bootstrap = {
    resamples: request.bootstrap?.resamples ?? LDS_DEFAULTS.resamples,
    seed: request.bootstrap?.seed ?? LDS_DEFAULTS.seed,
  };
  return { testIds, runs, runIds, baseRun, predict, prediction, fittingRuns, bootstrap };
}

/**
 * The lds job kind (CPU; a simulator's predictions use this node's GPU when it has one): plans
 * again from the stored request. The evaluation is its one output: a re-run once it is ready
 * returns it as stored (markReady flips only a running evaluation).
 */
export function ldsKind(deps: LdsDeps): JobKind<LdsJobInput> {
  return {
    needs: "cpu",
    build: async ({ input }) => {
      const evaluations = deps.store.get(EVALUATIONS);
      const id = input.evaluation;
      const stored = evaluations.get<LdsMethod, LdsRecordRequest, LdsRecordResult>(id);
      if (!stored) throw new ConflictError(`evaluation ${id} was deleted before its job ran`);
      if (stored.status === "ready" && stored.result) {
        const { study, method, runs, baseRun } = input;
        const done = { evaluation: id, study, method, runs, baseRun, ...stored.result };
        return () => Promise.resolve(done);
      }
      let plan;
      try {
        plan = await planLds(deps, input.request);
      } catch (e) {
        evaluations.markStopped(id, "failed", e instanceof Error ? e.message : String(e));
        throw e;
      }
      const { testIds, runs, baseRun, predict, prediction, fittingRuns, bootstrap } = plan;
      return async (ctx) => {
        ctx.progress({ phase: "predicting final losses", fraction: 0 });
        const predicted = await predict(
          ctx.signal,
          (f) => ctx.progress({ phase: "predicting final losses", fraction: 0.9 * f }),
        );
        ctx.signal.throwIfAborted();
        ctx.progress({ phase: "ranking", fraction: 0.9 });
        const summary = linearDatamodelingScore({
          runs: runs.length,
          tests: testIds.length,
          predicted,
          observed: observedFinalLosses(runs, testIds.length),
        }, { ...bootstrap, confidence: LDS_DEFAULTS.confidence });
        const result = ldsResult(testIds, prediction, bootstrap, summary, fittingRuns);
        // Not marked, and not ready by another attempt of the same job: deleted or stopped.
        if (!evaluations.markReady(id, result) && evaluations.get(id)?.status !== "ready") {
          throw new ConflictError(
            `evaluation ${id} was deleted (or its study), or stopped, while its LDS was computed`,
            { evaluation: id },
          );
        }
        return {
          evaluation: id,
          study: input.study,
          method: input.method,
          runs: runs.map((r) => r.id),
          baseRun,
          ...result,
        } satisfies LdsResult & { evaluation: string };
      };
    },
  };
}

/** Marks the record failed or cancelled when its job ends any other way than by storing it. */
function keepInStep(deps: SimfluenceDeps, id: string, job: string): void {
  const unsubscribe = deps.jobs.subscribe(job, (event) => {
    if (event.type === "failed" || event.type === "cancelled") {
      deps.store.get(EVALUATIONS).markStopped(id, event.type, event.job.error ?? event.type);
    }
    if (event.type !== "progress") unsubscribe?.();
  });
}

function ldsResult(
  testIds: readonly string[],
  prediction: string,
  bootstrap: { resamples: number; seed: number },
  summary: LdsSummary,
  fittingRuns: IdList,
): LdsRecordResult {
  return {
    prediction,
    tests: testIds.map((test, z) => ({ test, spearman: summary.perTest[z] })),
    lds: summary.mean,
    interval: summary.interval && { ...summary.interval, confidence: LDS_DEFAULTS.confidence },
    scoredTests: summary.scoredTests,
    constantTests: summary.constantTests,
    fittingRuns,
    bootstrap: { ...bootstrap, resampled: "test examples", method: "percentile" },
  };
}
