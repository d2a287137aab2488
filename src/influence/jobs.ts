// The lifecycle every influence job shares: a record created "running" with its job, marked
// failed or cancelled when the job ends any other way than by storing its result (a cancel while
// queued included: the handler then never runs), and the result file written before the record
// is marked ready.
import type { JobContext, JobManager } from "../jobs/manager.ts";
import type { JobRecord } from "../store/store.ts";
import type { InfluenceKind, InfluenceStore } from "./store.ts";

export interface InfluenceJobDeps {
  jobs: JobManager;
  influence: InfluenceStore;
}

/** Submits `handler` as the job of record `id`, keeping the record in step with the job. */
export function submitInfluenceJob<I>(
  deps: InfluenceJobDeps,
  kind: InfluenceKind,
  id: string,
  input: I,
  handler: (ctx: JobContext<I>) => Promise<unknown>,
): JobRecord {
  const job = deps.jobs.submit(`influence-${kind}`, input, handler);
  deps.influence.setJob(kind, id, job.id);
  const unsubscribe = deps.jobs.subscribe(job.id, (event) => {
    if (event.type === "failed" || event.type === "cancelled") {
      deps.influence.markStopped(
        kind,
        id,
        event.type,
        event.job.error ?? event.type,
      );
    }
    if (event.type !== "progress") unsubscribe?.();
  });
  return job;
}

/** Rate and ETA from the work done so far, for job progress. */
export function rate(startedMs: number, done: number, total: number) {
  const seconds = Math.max((performance.now() - startedMs) / 1000, 1e-3);
  const perSecond = done / seconds;
  return {
    perSecond,
    etaSeconds: perSecond > 0 ? Math.max(0, (total - done) / perSecond) : undefined,
  };
}
