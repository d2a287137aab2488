// The cluster's job queue on pg-boss (same PostgreSQL as the store). A queued job row gets one
// pg-boss job carrying its id, on the queue of its placement: GPU work on `simfluence-gpu` (taken
// only by nodes with a WebGPU adapter), the rest on `simfluence-cpu`. pg-boss brings what a node's
// death needs: a heartbeat per running job, retries, and a dead-letter queue.
//
// Options, chosen for jobs that may hold a GPU for hours:
// - heartbeatSeconds (default 60, SIMFLUENCE_JOB_HEARTBEAT_SECONDS, pg-boss's minimum is 10): the
//   worker touches its job every half of it; a job not touched for that long belongs to a dead
//   node and pg-boss's monitor (run every heartbeat/5 s here) fails it, which retries it elsewhere.
// - expireInSeconds 24 h (pg-boss's maximum): a hard bound on one attempt. The heartbeat, not this,
//   detects dead nodes; a job alive past it is retried and resumes from what it stored.
// - retryLimit 3, no delay: a retry re-runs the same job id, idempotently (training records only
//   the runs its study lacks, single-output jobs reuse their output). A handler's own failure never
//   reaches pg-boss as a failure (the worker completes the pg-boss job and marks the row failed):
//   it would fail again. So retries count only node deaths.
// - deadLetter `simfluence-dead`: after the last retry the job lands there, and its worker (every
//   node runs one) marks the row failed: the nodes that ran it died retryLimit + 1 times.
// - policy "singleton" with singletonKey = job id: at most one active attempt of a job at a time,
//   even while a retry races a slow node. The pg-boss job's own id is the job id too, so a queued
//   job is cancelled by id.
import { PgBoss } from "pg-boss";
import type { Logger } from "../log.ts";

export type Placement = "gpu" | "cpu";

export const QUEUE_OF: Record<Placement, string> = {
  gpu: "simfluence-gpu",
  cpu: "simfluence-cpu",
};
export const DEAD_LETTER_QUEUE = "simfluence-dead";

export const RETRY_LIMIT = 3;
/** pg-boss refuses more than 24 hours. */
const EXPIRE_IN_SECONDS = 24 * 60 * 60;

/** What a queue message carries: the job row's id (the row holds everything else). */
export interface QueuedJob {
  job: string;
}

/** One fetched attempt: settle it with complete/fail, keep it alive with touch. */
export interface Attempt {
  queue: string;
  id: string;
  retryCount: number;
  job: string;
  heartbeatSeconds: number;
}

export interface JobQueueOptions {
  url: string;
  nodeId: string;
  heartbeatSeconds: number;
  logger: Logger;
}

export class JobQueue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly heartbeatSeconds: number,
    private readonly logger: Logger,
  ) {}

  static async start(options: JobQueueOptions): Promise<JobQueue> {
    // The monitor fails jobs whose heartbeat is stale: run it often enough that a dead node's
    // job is retried soon after its heartbeat expires.
    const monitorSeconds = Math.max(1, Math.min(60, Math.floor(options.heartbeatSeconds / 5)));
    const boss = new PgBoss({
      connectionString: options.url,
      application_name: `simfluence queue ${options.nodeId}`,
      max: 4,
      schedule: false,
      monitorIntervalSeconds: monitorSeconds,
      superviseIntervalSeconds: monitorSeconds,
    });
    boss.on("error", (error) => options.logger.warn("job queue error", { error }));
    await boss.start();
    const queue = new JobQueue(boss, options.heartbeatSeconds, options.logger);
    // The dead-letter queue first: a queue naming it must find it.
    await boss.createQueue(DEAD_LETTER_QUEUE, { retryLimit: RETRY_LIMIT });
    for (const name of Object.values(QUEUE_OF)) {
      await boss.createQueue(name, { policy: "singleton", ...queue.jobOptions() });
    }
    return queue;
  }

  /** Per job as well as per queue: a queue keeps the options it was created with. */
  private jobOptions() {
    return {
      heartbeatSeconds: this.heartbeatSeconds,
      expireInSeconds: EXPIRE_IN_SECONDS,
      retryLimit: RETRY_LIMIT,
      retryDelay: 0,
      deadLetter: DEAD_LETTER_QUEUE,
    };
  }

  /** Queues job `id` for a node that can serve `placement`. */
  async send(id: string, placement: Placement): Promise<void> {
    const data: QueuedJob = { job: id };
    await this.boss.send(QUEUE_OF[placement], data, {
      id,
      singletonKey: id,
      ...this.jobOptions(),
    });
  }

  /** Withdraws a job nobody has taken yet (a taken one is left to its worker). */
  async cancel(id: string, placement: Placement): Promise<void> {
    await this.boss.cancel(QUEUE_OF[placement], id);
  }

  /** Takes the next job of `queue`, or null when there is none. */
  async fetch(queue: string): Promise<Attempt | null> {
    const [job] = await this.boss.fetch<QueuedJob>(queue, { batchSize: 1 });
    if (!job) return null;
    return {
      queue,
      id: job.id,
      retryCount: job.retryCount,
      job: job.data.job,
      heartbeatSeconds: job.heartbeatSeconds ?? this.heartbeatSeconds,
    };
  }

  /** The attempt is still alive; false when it is no longer this worker's (retried elsewhere). */
  async touch(attempt: Attempt): Promise<boolean> {
    const result = await this.boss.touch(attempt.queue, this.ref(attempt)) as { affected?: number };
    return (result.affected ?? 0) > 0;
  }

  /** Done with it, whatever the job row says (succeeded, failed on its own, cancelled). */
  async complete(attempt: Attempt): Promise<void> {
    await this.boss.complete(attempt.queue, this.ref(attempt));
  }

  /** Gives it back for a retry elsewhere (this node cannot run it). */
  async fail(attempt: Attempt, reason: string): Promise<void> {
    await this.boss.fail(attempt.queue, this.ref(attempt), { reason });
  }

  /** Calls `onDead` with each job id that ran out of retries. */
  async workDeadLetters(onDead: (job: string, attempts: number) => void): Promise<void> {
    await this.boss.work<QueuedJob>(
      DEAD_LETTER_QUEUE,
      { pollingIntervalSeconds: Math.max(2, Math.floor(this.heartbeatSeconds / 5)) },
      // deno-lint-ignore require-await
      async (jobs) => {
        for (const job of jobs) onDead(job.data.job, RETRY_LIMIT + 1);
      },
    );
  }

  /** Stops taking work and closes pg-boss's pool; the caller has settled its attempts. */
  async stop(): Promise<void> {
    try {
      await this.boss.stop({ graceful: true, timeout: 5_000, close: true });
    } catch (error) {
      this.logger.warn("job queue did not stop cleanly", { error });
    }
  }

  private ref(attempt: Attempt) {
    return { id: attempt.id, retryCount: attempt.retryCount };
  }
}
