// Curriculum optimisation as a service (POST /v1/curricula/optimize and the kept records): the
// request is checked in full against its study (setting.ts) and its method (a ready simulator of
// the study, a score set covering the objective, a replayable AdamW run) before anything is
// kept; then a record is kept ("running") and a job (job.ts) searches, predicts and verifies.
import { InvalidInputError, NotFoundError } from "../errors.ts";
import type { GpuHandle } from "../gpu/handle.ts";
import { requireRuntime } from "../gpu/handle.ts";
import type { JobManager } from "../jobs/manager.ts";
import { storedRequest } from "../jobs/resume.ts";
import { loadReplayableRun } from "../metagradients/replay.ts";
import { checkFitsTangentPass } from "../metagradients/service.ts";
import { SIMULATORS } from "../simfluence/simulator_store.ts";
import type { JobRecord, Store } from "../store/store.ts";
import {
  GPU_NEED,
  methodName,
  OPTIMIZE_JOB_KINDS,
  type OptimizeJobInput,
  optimizeJobKind,
  optimizeJobKindSpec,
} from "./job.ts";
import { type OptimizeRequest, OptimizeRequestSchema } from "./schemas.ts";
import { loadStudyScores } from "./scores_method.ts";
import { resolveSetting, type Setting } from "./setting.ts";
import { CURRICULA, type OptimizationRecord } from "./store.ts";
import { requireRecordable, type Verification } from "./verify.ts";

export interface CurriculaDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

/** What the record keeps of its request: the request, and what it resolved to at the start. */
export type RecordedRequest = OptimizeRequest & {
  resolved: { budget: { keep: number; of: number }; tests: string[]; baseRun: string };
};

export type StoredOptimization = OptimizationRecord<
  RecordedRequest,
  Record<string, unknown> & {
    predicted?: { optimized: { objective: number | null }; own: { objective: number | null } };
  },
  Verification
>;

/** The method's own checks, before anything is kept (400s name the method's field). */
async function checkMethod(deps: CurriculaDeps, setting: Setting, request: OptimizeRequest) {
  const method = request.method;
  if ("simulator" in method) {
    const record = deps.store.get(SIMULATORS).get(method.simulator);
    if (!record) {
      throw new NotFoundError(`simulator ${method.simulator}`, { field: "method.simulator" });
    }
    if (record.study !== request.study) {
      throw new InvalidInputError(
        `method.simulator: simulator ${record.id} was fitted on study "${record.study}", not ` +
          `"${request.study}"`,
        { field: "method.simulator", simulator: record.id, study: record.study },
        "other_study",
      );
    }
    // 409 when not ready.
    await deps.store.get(SIMULATORS).load(method.simulator, setting.testIds);
    return;
  }
  if ("scores" in method) {
    await loadStudyScores(deps.store, setting, method.scores);
    return;
  }
  const runtime = requireRuntime(deps.gpu, GPU_NEED);
  const replay = await loadReplayableRun(deps.store, setting.base.id);
  checkFitsTangentPass(runtime, replay);
}

/** The request with every default the job relies on written out. */
function resolvedRequest(request: OptimizeRequest): OptimizeRequest {
  return OptimizeRequestSchema.parse(request);
}

/** Checks everything, keeps a running record, and queues its job. */
export async function startOptimization(
  deps: CurriculaDeps,
  body: OptimizeRequest,
): Promise<{ optimization: StoredOptimization; job: JobRecord }> {
  const request = resolvedRequest(body);
  const setting = await resolveSetting(deps.store, request);
  await checkMethod(deps, setting, request);
  if (request.verify) {
    requireRuntime(deps.gpu, GPU_NEED);
    requireRecordable(deps.store, setting, "baseRun");
  }
  const records = deps.store.get(CURRICULA);
  const recorded: RecordedRequest = {
    ...request,
    resolved: {
      budget: { keep: setting.keepCount, of: setting.pool.length },
      tests: setting.objective.tests,
      baseRun: setting.base.id,
    },
  };
  const record = records.create({
    study: request.study,
    method: methodName(request),
    request: recorded,
  });
  // The base run as resolved now: a job (or its retry on another node) optimises that run even if
  // the study's default would have changed by then.
  const input: OptimizeJobInput = {
    optimization: record.id,
    study: request.study,
    request: { ...request, baseRun: setting.base.id },
  };
  const job = deps.jobs.submit(optimizeJobKind(request), input);
  records.setJob(record.id, job.id);
  keepInStep(deps, record.id, job.id);
  return { optimization: records.get(record.id) as StoredOptimization, job };
}

/** Marks the record failed or cancelled when its job ends any other way than by finishing it. */
function keepInStep(deps: CurriculaDeps, id: string, job: string): void {
  const unsubscribe = deps.jobs.subscribe(job, (event) => {
    if (event.type === "failed" || event.type === "cancelled") {
      deps.store.get(CURRICULA).markStopped(id, event.type, event.job.error ?? event.type);
    }
    if (event.type !== "progress") unsubscribe?.();
  });
}

/** Defines both job kinds and their resumers on the job manager (once per app). */
export function defineOptimizeJobs(deps: CurriculaDeps): void {
  for (const needs of ["cpu", "gpu"] as const) {
    const kind = OPTIMIZE_JOB_KINDS[needs];
    deps.jobs.define(kind, optimizeJobKindSpec(deps, needs));
    deps.jobs.registerResumer(kind, (previous) => resumeOptimization(deps, previous));
  }
}

/** POST /v1/jobs/:id/resume: the same request again, as a new optimisation and job. */
export async function resumeOptimization(
  deps: CurriculaDeps,
  previous: JobRecord,
): Promise<{ job: string; optimization: string }> {
  const request = storedRequest(previous, OptimizeRequestSchema);
  const { optimization, job } = await startOptimization(deps, request);
  return { job: job.id, optimization: optimization.id };
}

/** 404 naming the id when there is none. */
export function getOptimization(store: Store, id: string): StoredOptimization {
  const record = store.get(CURRICULA).get(id) as StoredOptimization | null;
  if (!record) throw new NotFoundError(`optimization ${id}`, { field: "id", id });
  return record;
}

/** The record without its curriculum, contributions and runs. */
export function describeOptimizationSummary(record: StoredOptimization) {
  const request = record.request;
  const result = record.result as
    | null
    | {
      predicted: {
        optimized: { objective: number | null };
        own: { objective: number | null };
        randomMean: number | null;
      };
      provenance: { objective: { tests: string[] }; budget: { keep: number; of: number } };
    };
  const observed = record.verification?.observed ?? null;
  return {
    id: record.id,
    study: record.study,
    method: record.method as "simulator" | "scores" | "metagradient",
    status: record.status,
    error: record.error,
    job: record.job,
    budget: request.resolved.budget,
    objective: { tests: request.resolved.tests, at: request.objective.at },
    predicted: result
      ? {
        optimized: result.predicted.optimized.objective,
        own: result.predicted.own.objective,
        randomMean: result.predicted.randomMean,
      }
      : null,
    verified: observed
      ? {
        improvement: observed.improvement,
        lower: observed.interval.lower,
        upper: observed.interval.upper,
      }
      : null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function describeOptimization(record: StoredOptimization) {
  return {
    ...describeOptimizationSummary(record),
    request: record.request as unknown as Record<string, unknown>,
    result: record.result,
    verification: record.verification,
  };
}

export function listOptimizations(
  store: Store,
  query: { study?: string; limit: number; offset: number },
) {
  const { items, total } = store.get(CURRICULA).list(query);
  return {
    optimizations: (items as StoredOptimization[]).map(describeOptimizationSummary),
    total,
    limit: query.limit,
    offset: query.offset,
  };
}

/**
 * Cancels the record's job if it still runs, then deletes the record (its verification runs stay
 * in the study, as runs); 404 when unknown.
 */
export function deleteOptimization(deps: CurriculaDeps, id: string): { runs: string[] } {
  const record = getOptimization(deps.store, id);
  if (record.status === "running" && record.job) {
    try {
      deps.jobs.cancel(record.job);
    } catch {
      // Finished meanwhile: nothing to stop.
    }
  }
  deps.store.get(CURRICULA).delete(id);
  return { runs: record.verification?.runs.map((r) => r.run) ?? [] };
}
