// Kept evaluations as the API shows them (GET /v1/evaluations, GET and DELETE
// /v1/evaluations/:id). A list shows each without its per-test values and with at most a few of
// its run ids (and how many there are); one evaluation shows all of them.
import { NotFoundError } from "../errors.ts";
import type { JobManager } from "../jobs/manager.ts";
import { listSome } from "../runs/run_input.ts";
import type { Store } from "../store/store.ts";
import type { LdsRecord } from "./service.ts";
import { EVALUATIONS } from "./store.ts";

export interface EvaluationDeps {
  store: Store;
  jobs: JobManager;
}

/** 404 naming the id when there is none. */
export function getEvaluation(store: Store, id: string): LdsRecord {
  const record = store.get(EVALUATIONS).get(id) as LdsRecord | null;
  if (!record) throw new NotFoundError(`evaluation ${id}`, { field: "id", id });
  return record;
}

/** The evaluation without its per-test values; `runs` lists up to 20 ids and their total. */
export function describeEvaluationSummary(record: LdsRecord) {
  const { request, result } = record;
  return {
    id: record.id,
    kind: record.kind,
    study: record.study,
    method: record.method,
    status: record.status,
    error: record.error,
    job: record.job,
    runs: listSome(request.runs),
    baseRun: request.baseRun ?? null,
    allowFittingRuns: request.allowFittingRuns,
    prediction: result?.prediction ?? null,
    lds: result?.lds ?? null,
    interval: result?.interval ?? null,
    scoredTests: result?.scoredTests ?? null,
    constantTests: result?.constantTests ?? null,
    fittingRuns: result?.fittingRuns ?? null,
    bootstrap: result?.bootstrap ??
      { ...request.bootstrap, resampled: "test examples" as const, method: "percentile" as const },
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** The whole evaluation: every run id, and ρ per test example (null until it is ready). */
export function describeEvaluation(record: LdsRecord) {
  return {
    ...describeEvaluationSummary(record),
    runs: { ids: record.request.runs, total: record.request.runs.length },
    tests: record.result?.tests ?? null,
  };
}

export function listEvaluations(
  store: Store,
  query: { study?: string; limit: number; offset: number },
) {
  const { items, total } = store.get(EVALUATIONS).list(query);
  return {
    evaluations: (items as LdsRecord[]).map(describeEvaluationSummary),
    total,
    limit: query.limit,
    offset: query.offset,
  };
}

/** Cancels the evaluation's job if it still runs, then deletes the record; 404 when unknown. */
export function deleteEvaluation(deps: EvaluationDeps, id: string): void {
  const record = getEvaluation(deps.store, id);
  if (record.status === "running" && record.job) {
    try {
      deps.jobs.cancel(record.job);
    } catch {
      // Finished meanwhile: nothing to stop.
    }
  }
  deps.store.get(EVALUATIONS).delete(id);
}
