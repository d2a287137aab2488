// The lifecycle every influence job shares: a record created "running" with its job, marked
// failed or cancelled when the job ends any other way than by storing its result (a cancel while
// queued included: the handler then never runs), and the result file written before the record
// is marked ready.
import type { JobContext, JobManager } from "../jobs/manager.ts";
import { ConflictError } from "../errors.ts";
import type { TensorInput } from "../store/safetensors.ts";
import type { JobRecord, Store } from "../store/store.ts";
import { INFLUENCE, type InfluenceKind, type InfluenceStore } from "./store.ts";

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
  jobKind = `influence-${kind}`,
): JobRecord {
  const job = deps.jobs.submit(jobKind, input, handler);
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

/**
 * Writes a job's result file, then marks its record ready. A record deleted meanwhile makes the
 * job a conflict, and its file is removed (markReady does it), so nothing is left behind.
 */
export async function storeInfluenceResult(
  store: Store,
  kind: InfluenceKind,
  id: string,
  result: {
    tensors: Record<string, TensorInput>;
    metadata: Record<string, string>;
    summary: unknown;
  },
): Promise<void> {
  const file = await store.tensors.put(result.tensors, result.metadata);
  if (!await store.get(INFLUENCE).markReady(kind, id, result.summary, file.id)) {
    throw new ConflictError(
      kind === "factors"
        ? "the factors were deleted while they were being fitted"
        : "the score set was deleted while it was being computed",
    );
  }
}

/** Cancels the record's job if it still runs, then deletes the record and its file. */
export async function deleteInfluenceRecord(
  deps: { store: Store; jobs: JobManager },
  record: { kind: InfluenceKind; id: string; status: string; job: string | null },
): Promise<void> {
  if (record.status === "running" && record.job) {
    try {
      deps.jobs.cancel(record.job);
    } catch {
      // Finished meanwhile: nothing to stop.
    }
  }
  await deps.store.get(INFLUENCE).delete(record.kind, record.id);
}
