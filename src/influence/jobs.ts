// The lifecycle every influence job shares: a record created "running" with its job, marked
// failed or cancelled when the job ends any other way than by storing its result (a cancel while
// queued included: the handler then never runs), and the result file written before the record
// is marked ready.
import type { JobHandler, JobKind, JobManager } from "../jobs/manager.ts";
import { ConflictError } from "../errors.ts";
import type { TensorInput } from "../store/safetensors.ts";
import type { JobRecord, Store } from "../store/store.ts";
import { INFLUENCE, type InfluenceKind, type InfluenceStore } from "./store.ts";

export interface InfluenceJobDeps {
  jobs: JobManager;
  influence: InfluenceStore;
}

/** Submits the job of record `id` (its kind builds it), keeping the record in step with the job. */
export function submitInfluenceJob<I>(
  deps: InfluenceJobDeps,
  kind: InfluenceKind,
  id: string,
  input: I,
  jobKind = `influence-${kind}`,
): JobRecord {
  const job = deps.jobs.submit(jobKind, input);
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

/**
 * A job kind whose one output is the influence record its input names (GPU work): `build` plans
 * the work again from the stored input on whichever node runs it. A record already ready is
 * returned as stored (a re-run of the same job stores no second copy: markReady flips only a
 * running record); a record deleted is a conflict; a plan that fails marks the record failed.
 */
export function influenceRecordKind<I>(
  store: Store,
  kind: InfluenceKind,
  idOf: (input: I) => string,
  build: (input: I, id: string) => Promise<JobHandler<I>>,
): JobKind<I> {
  return {
    needs: "gpu",
    build: async ({ input }) => {
      const influence = store.get(INFLUENCE);
      const id = idOf(input);
      const record = influence.get<unknown, { seconds?: number }>(kind, id);
      if (!record) throw new ConflictError(`the ${kind} ${id} were deleted before their job ran`);
      if (record.status === "ready") {
        const done = { [kind]: id, seconds: record.summary?.seconds ?? null };
        return () => Promise.resolve(done);
      }
      try {
        return await build(input, id);
      } catch (e) {
        influence.markStopped(kind, id, "failed", e instanceof Error ? e.message : String(e));
        throw e;
      }
    },
  };
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
  const influence = store.get(INFLUENCE);
  if (!await influence.markReady(kind, id, result.summary, file.id)) {
    // Another attempt of the same job stored it first (this attempt's file is gone again).
    if (influence.get(kind, id)?.status === "ready") return;
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
