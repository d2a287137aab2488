// Jobs across a cluster's nodes (the JobManager's JobCluster): a submitted job goes to the pg-boss
// queue of its placement; the node running a job publishes each persisted progress update and its
// final state on the bus ("jobs"); a node with watchers of a job it does not run relays those
// messages to them (reading the final record from the shared table); DELETE on any node cancels a
// queued job at once in the table and the queue, and asks the node running a job to stop ("cancel").
// No node polls for any of this.
import type { Logger } from "../log.ts";
import type {
  JobCluster,
  JobEvent,
  JobKindInfo,
  JobListener,
  JobManager,
} from "../jobs/manager.ts";
import type { JobProgress, JobRecord, JobStore } from "../store/store.ts";
import { FINISHED_STATUSES } from "../store/store.ts";
import type { SqlDatabase } from "../store/sql/database.ts";
import type { ClusterBus } from "./bus.ts";
import type { JobQueue, Placement } from "./job_queue.ts";

/** What nodes say of jobs on the "jobs" channel. */
export type JobBusMessage =
  | { type: "queued"; id: string; placement: Placement }
  | { type: "progress"; id: string; progress: JobProgress }
  | { type: "final"; id: string; status: string };

const finalEventType = { succeeded: "done", failed: "failed", cancelled: "cancelled" } as const;

export interface ClusterJobsOptions {
  nodeId: string;
  db: SqlDatabase;
  store: JobStore;
  bus: ClusterBus;
  queue: JobQueue;
  manager: JobManager;
  logger: Logger;
  /** Called when a job was queued on a placement (a worker here may want to look now). */
  onQueued?: (placement: Placement) => void;
}

export class ClusterJobs implements JobCluster {
  private readonly watchers = new Map<string, Set<JobListener>>();
  private readonly unsubscribes: (() => void)[] = [];
  private readonly ownedLocally = new Set<string>();

  constructor(private readonly o: ClusterJobsOptions) {
    this.unsubscribes.push(
      o.bus.subscribe("jobs", (payload) => this.onJobMessage(payload as JobBusMessage)),
      o.bus.subscribe("cancel", (payload) => this.onCancel(payload as { id: string })),
      // Messages sent while the bus was down are lost: catch up from the table.
      o.bus.onReconnect(() => {
        for (const id of [...this.watchers.keys()]) this.refresh(id);
      }),
    );
  }

  dispatch(record: JobRecord, kind: JobKindInfo): void {
    const placement: Placement = kind.needs;
    this.o.queue.send(record.id, placement).then(() => {
      this.publish({ type: "queued", id: record.id, placement });
    }).catch((error) => {
      this.o.logger.error("job could not be queued", { jobId: record.id, error });
      this.markFailed(record.id, "the job could not be queued");
    });
  }

  cancel(record: JobRecord): JobRecord {
    const info = this.o.manager.kindInfo(record.kind);
    // A job of a local kind waits in its own node's memory, not in the queue: only that node
    // can cancel it, even while it is queued.
    if (record.status === "queued" && info && !info.local) {
      const { changes } = this.o.db.prepare(
        `UPDATE jobs SET status = 'cancelled', error = ?, finished_at = ?
         WHERE id = ? AND status = 'queued'`,
      ).run("cancelled before it started", Date.now(), record.id);
      if (Number(changes) === 1) {
        const placement = info.needs;
        // A worker that fetches it anyway finds the row cancelled and skips it.
        this.o.queue.cancel(record.id, placement).catch((error) =>
          this.o.logger.warn("queued job not withdrawn from the queue", { jobId: record.id, error })
        );
        this.publish({ type: "final", id: record.id, status: "cancelled" });
        return this.o.store.get(record.id) ?? record;
      }
    }
    const now = this.o.store.get(record.id) ?? record;
    if (FINISHED_STATUSES.includes(now.status)) return now;
    // Taken meanwhile, or running: the node that runs it stops it and publishes the final state.
    this.o.logger.info("job cancel requested on the cluster", { jobId: record.id });
    this.o.bus.publish("cancel", { id: record.id });
    return now;
  }

  watch(id: string, listener: JobListener): () => void {
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.watchers.get(id) === set) this.watchers.delete(id);
    };
  }

  published(record: JobRecord, event: JobEvent): void {
    if (!this.ownedLocally.has(record.id) && event.type === "progress") {
      this.ownedLocally.add(record.id);
      // Jobs the queue never saw (local kinds) name their node when they start, so that the node
      // can mark them interrupted when it restarts (failInterruptedLocalJobs).
      this.o.db.prepare("UPDATE jobs SET node = ? WHERE id = ? AND node IS NULL")
        .run(this.o.nodeId, record.id);
    }
    if (event.type !== "progress") this.ownedLocally.delete(record.id);
    this.publish(
      event.type === "progress"
        ? { type: "progress", id: record.id, progress: event.progress }
        : { type: "final", id: record.id, status: record.status },
    );
  }

  /**
   * At start: the jobs this node ran outside the queue (local kinds) before it stopped are failed
   * as `interrupted`, as a lone node does at open; queued jobs are the queue's to retry.
   */
  failInterruptedLocalJobs(): number {
    const queued = this.o.manager.definedKinds().filter((k) => !k.local).map((k) => k.kind);
    const notQueued = queued.length ? `AND kind NOT IN (${queued.map(() => "?").join(", ")})` : "";
    const { changes } = this.o.db.prepare(
      `UPDATE jobs SET status = 'failed', error = 'interrupted', finished_at = ?
       WHERE node = ? AND status IN ('queued', 'running') ${notQueued}`,
    ).run(Date.now(), this.o.nodeId, ...queued);
    return Number(changes);
  }

  /** A job that ran out of retries (its nodes died each time): failed, watchers told. */
  deadLettered(id: string, attempts: number): void {
    this.o.logger.warn("job failed: its nodes died", { jobId: id, attempts });
    this.markFailed(id, `the nodes that ran it died ${attempts} times`);
  }

  close(): void {
    for (const off of this.unsubscribes.splice(0)) off();
    this.watchers.clear();
  }

  private markFailed(id: string, error: string): void {
    const { changes } = this.o.db.prepare(
      `UPDATE jobs SET status = 'failed', error = ?, finished_at = ?
       WHERE id = ? AND status IN ('queued', 'running')`,
    ).run(error, Date.now(), id);
    if (Number(changes) === 1) this.publish({ type: "final", id, status: "failed" });
  }

  private publish(message: JobBusMessage): void {
    try {
      this.o.bus.publish("jobs", message);
    } catch (error) {
      this.o.logger.warn("job message not published", { jobId: message.id, error });
    }
  }

  private onJobMessage(message: JobBusMessage): void {
    if (message.type === "queued") {
      this.o.onQueued?.(message.placement);
      return;
    }
    const set = this.watchers.get(message.id);
    if (!set) return;
    if (message.type === "progress") {
      this.deliver(set, { type: "progress", progress: message.progress });
    } else {
      this.refresh(message.id);
    }
  }

  /** Reads the row: a finished job's final event ends its watchers. */
  private refresh(id: string): void {
    const set = this.watchers.get(id);
    if (!set) return;
    const record = this.o.store.get(id);
    if (!record || !FINISHED_STATUSES.includes(record.status)) return;
    this.watchers.delete(id);
    this.deliver(set, {
      type: finalEventType[record.status as keyof typeof finalEventType],
      job: record,
    });
  }

  private deliver(set: Set<JobListener>, event: JobEvent): void {
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch (error) {
        this.o.logger.warn("job watcher threw", { error });
      }
    }
  }

  private onCancel(message: { id: string }): void {
    // Only the node that runs it acts; every other node ignores the message.
    if (this.o.manager.isActive(message.id)) this.o.manager.cancel(message.id);
  }
}
