// A worker node's loop: when idle, take the next job of a queue this node can serve (the GPU queue
// first when it has an adapter), claim its row, and run it through the job manager as a job
// submitted here would run. One job at a time per node (jobs share one GPU). An idle worker waits
// for a "queued" message on the bus, with pg-boss's usual slow poll as the backstop for one missed.
//
// Claiming is one UPDATE: the row becomes `running` on this node unless it finished (a cancelled
// job is acknowledged and skipped) or another node that is alive runs it. "Alive" is the nodes
// table's heartbeat, which is shorter than the queue's, so a retry after a node's death always
// finds that node stale; a node merely slow to heartbeat the queue keeps its job, and the retry is
// dropped. A restarted node (same id) may take back its own job at once.
import type { Logger } from "../log.ts";
import type { JobManager } from "../jobs/manager.ts";
import type { JobRecord, JobStore } from "../store/store.ts";
import type { SqlDatabase } from "../store/sql/database.ts";
import { type Attempt, type JobQueue, QUEUE_OF } from "./job_queue.ts";
import { type NodesTable, SERVER_NOW_MS } from "./nodes_store.ts";

export interface WorkerOptions {
  nodeId: string;
  queue: JobQueue;
  db: SqlDatabase;
  jobs: JobStore;
  nodes: NodesTable;
  manager: JobManager;
  /** Whether this node takes GPU work (it has a WebGPU adapter). */
  hasGpu: boolean;
  /** A node not heard from for this long is dead (nodes table). */
  nodeStaleMs: number;
  /** Backstop poll when no bus message wakes the worker. */
  idlePollMs: number;
  logger: Logger;
}

export type ClaimOutcome =
  | { claimed: true; record: JobRecord }
  | { claimed: false; why: "missing" | "finished" | "running elsewhere"; status?: string };

/** Takes job `id` for node `nodeId` unless it finished or a live node runs it. */
export function claimJob(
  db: SqlDatabase,
  jobs: JobStore,
  id: string,
  nodeId: string,
  nodeStaleMs: number,
): ClaimOutcome {
  const { changes } = db.prepare(
    `UPDATE jobs SET status = 'running', node = ?
     WHERE id = ? AND status IN ('queued', 'running')
       AND (node IS NULL OR node = ? OR NOT EXISTS (
         SELECT 1 FROM nodes n
         WHERE n.id = jobs.node AND n.job = jobs.id AND n.heartbeat_at > ${SERVER_NOW_MS} - ?))`,
  ).run(nodeId, id, nodeId, nodeStaleMs);
  const record = jobs.get(id);
  if (!record) return { claimed: false, why: "missing" };
  if (Number(changes) === 1) return { claimed: true, record };
  if (record.status === "queued" || record.status === "running") {
    return { claimed: false, why: "running elsewhere", status: record.status };
  }
  return { claimed: false, why: "finished", status: record.status };
}

export class ClusterWorker {
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private readonly queues: string[];

  constructor(private readonly o: WorkerOptions) {
    this.queues = o.hasGpu ? [QUEUE_OF.gpu, QUEUE_OF.cpu] : [QUEUE_OF.cpu];
  }

  get servedQueues(): readonly string[] {
    return this.queues;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** A job was queued somewhere (bus): look now rather than at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops taking jobs; resolves once the job in hand (stopped by the manager's shutdown) settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let attempt: Attempt | null = null;
      try {
        for (const queue of this.queues) {
          attempt = await this.o.queue.fetch(queue);
          if (attempt || this.stopped) break;
        }
      } catch (error) {
        this.o.logger.warn("job queue fetch failed", { error });
      }
      if (attempt) await this.take(attempt);
      else await this.idle();
    }
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, this.o.idlePollMs);
      this.wakeUp = done;
    });
  }

  private async take(attempt: Attempt): Promise<void> {
    const { logger } = this.o;
    // Keeps the attempt alive in pg-boss while it runs. An attempt no longer ours means this node
    // was presumed dead (frozen past the heartbeat): if another node has claimed the row since,
    // this node stops its copy without writing the row, so the job never runs twice at once.
    const heartbeat = setInterval(() => {
      this.o.queue.touch(attempt).then((alive) => {
        if (alive) return;
        const holder = this.o.db.prepare("SELECT node FROM jobs WHERE id = ?").get(attempt.job) as
          | { node: string | null }
          | undefined;
        logger.warn("queue heartbeat: attempt no longer ours", {
          jobId: attempt.job,
          holder: holder?.node ?? null,
        });
        if (holder && holder.node !== this.o.nodeId) this.o.manager.abandon(attempt.job);
      }).catch((error) => logger.warn("queue heartbeat failed", { jobId: attempt.job, error }));
    }, attempt.heartbeatSeconds * 500);
    try {
      if (this.stopped) {
        await this.o.queue.fail(attempt, "node shutting down");
        return;
      }
      let outcome: ClaimOutcome;
      try {
        outcome = claimJob(this.o.db, this.o.jobs, attempt.job, this.o.nodeId, this.o.nodeStaleMs);
      } catch (error) {
        logger.warn("job claim failed; giving the job back", { jobId: attempt.job, error });
        await this.o.queue.fail(attempt, "claim failed");
        return;
      }
      if (!outcome.claimed) {
        logger.info("job skipped", { jobId: attempt.job, why: outcome.why });
        await this.o.queue.complete(attempt);
        return;
      }
      if (!this.o.manager.kindInfo(outcome.record.kind)) {
        // Another version of the service defines it: let a node that knows it take it.
        await this.o.queue.fail(attempt, `kind ${outcome.record.kind} not defined on this node`);
        return;
      }
      // The nodes table says at once that this node runs it (a retry elsewhere then sees it alive).
      this.o.nodes.heartbeat(this.o.nodeId, attempt.job);
      logger.info("job taken", { jobId: attempt.job, attempt: attempt.retryCount });
      const final = await this.o.manager.runStored(outcome.record);
      this.o.nodes.heartbeat(this.o.nodeId, null);
      logger.info("job settled", { jobId: attempt.job, status: final.status });
      // Succeeded, failed on its own (it would fail again) or cancelled: no retry either way.
      await this.o.queue.complete(attempt);
    } catch (error) {
      logger.error("job attempt not settled", { jobId: attempt.job, error });
    } finally {
      clearInterval(heartbeat);
    }
  }
}
