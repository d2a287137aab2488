// A node joining a cluster (PostgreSQL mode): the bus, the pg-boss queue, this node's row in the
// nodes table with a heartbeat every few seconds, jobs handed to the cluster, the dead-letter
// worker on every node, and for role worker|all the loop that takes jobs. close() undoes it in
// order once the job manager has stopped the running job.
import type { Config } from "../config.ts";
import type { GpuHandle } from "../gpu/handle.ts";
import type { JobManager } from "../jobs/manager.ts";
import type { Logger } from "../log.ts";
import { migrate } from "../store/migrations.ts";
import type { PostgresStore } from "../store/postgres.ts";
import { type ClusterBus, PostgresBus } from "./bus.ts";
import { JobQueue } from "./job_queue.ts";
import { ClusterJobs } from "./jobs.ts";
import { adapterOf, clusterNodeDirectory, type NodeDirectory } from "./node_directory.ts";
import { NODES, type NodesTable } from "./nodes_store.ts";
import { ClusterWorker } from "./worker.ts";

/** Held while the nodes table migrates (nodes starting together apply it once). */
const NODES_MIGRATION_LOCK = 0x51f1_0003;

export interface ClusterNode {
  readonly bus: ClusterBus;
  readonly nodes: NodeDirectory;
  /** Stops taking new jobs (the running one is stopped by the job manager's shutdown). */
  stopTakingJobs(): void;
  /** After the job manager's shutdown: settles the queue, leaves the bus. */
  close(): Promise<void>;
}

/** How often a node heartbeats the nodes table, and when it counts as dead. */
export function nodeTimings(jobHeartbeatSeconds: number) {
  // Well inside the queue's heartbeat, so a job retried after its node's death always finds the
  // node stale (worker.ts's claim).
  const intervalMs = Math.min(5_000, Math.max(1_000, (jobHeartbeatSeconds * 1000) / 5));
  return { intervalMs, staleMs: intervalMs * 3, idlePollMs: Math.min(10_000, intervalMs * 2) };
}

export async function joinCluster(deps: {
  config: Config & { databaseUrl: string };
  store: PostgresStore;
  gpu: GpuHandle;
  jobs: JobManager;
  logger: Logger;
  /** The node's bus when already open (src/cluster/shared_http_state.ts); its owner closes it. */
  bus?: ClusterBus;
}): Promise<ClusterNode> {
  const { config, store, jobs, logger } = deps;
  const db = store.db;
  db.exec(`SELECT pg_advisory_lock(${NODES_MIGRATION_LOCK})`);
  try {
    migrate(db, NODES.name, NODES.postgresMigrations!);
  } finally {
    db.exec(`SELECT pg_advisory_unlock(${NODES_MIGRATION_LOCK})`);
  }
  const nodes: NodesTable = NODES.open({
    db,
    tensors: store.tensors,
    dataDir: store.dataDir,
    transaction: (fn) => store.transaction(fn),
  });
  const timings = nodeTimings(config.jobHeartbeatSeconds);
  const adapter = adapterOf(deps.gpu);
  nodes.join({ id: config.nodeId, role: config.role, adapter });
  const heartbeat = setInterval(() => {
    try {
      nodes.heartbeat(config.nodeId, jobs.runningJobIds()[0] ?? null);
    } catch (error) {
      logger.warn("node heartbeat failed", { error });
    }
  }, timings.intervalMs);

  const bus = deps.bus ?? await PostgresBus.open(config.databaseUrl, db, logger);
  const queue = await JobQueue.start({
    url: config.databaseUrl,
    nodeId: config.nodeId,
    heartbeatSeconds: config.jobHeartbeatSeconds,
    logger,
  });
  let worker: ClusterWorker | null = null;
  const clusterJobs = new ClusterJobs({
    nodeId: config.nodeId,
    db,
    store: store.jobs,
    bus,
    queue,
    manager: jobs,
    logger,
    onQueued: (placement) => {
      if (worker && (placement === "cpu" || adapter !== null)) worker.wake();
    },
  });
  const interrupted = clusterJobs.failInterruptedLocalJobs();
  if (interrupted > 0) {
    logger.warn("local jobs this node left unfinished marked failed", { interrupted });
  }
  jobs.attachCluster(clusterJobs);
  await queue.workDeadLetters((id, attempts) => clusterJobs.deadLettered(id, attempts));
  if (config.role !== "api") {
    worker = new ClusterWorker({
      nodeId: config.nodeId,
      queue,
      db,
      jobs: store.jobs,
      nodes,
      manager: jobs,
      hasGpu: adapter !== null,
      nodeStaleMs: timings.staleMs,
      // The bus wakes an idle worker when a job is queued; the poll finds retries (pg-boss's
      // monitor sends no message) and anything missed while the bus reconnected.
      idlePollMs: timings.idlePollMs,
      logger,
    });
    worker.start();
  }
  logger.info("joined the cluster", {
    node: config.nodeId,
    role: config.role,
    queues: worker?.servedQueues ?? [],
    jobHeartbeatSeconds: config.jobHeartbeatSeconds,
  });

  return {
    bus,
    nodes: clusterNodeDirectory(nodes, timings.staleMs),
    stopTakingJobs: () => {
      void worker?.stop();
    },
    close: async () => {
      await worker?.stop();
      clearInterval(heartbeat);
      try {
        nodes.heartbeat(config.nodeId, null);
      } catch { /* the store may be gone */ }
      clusterJobs.close();
      await queue.stop();
      if (!deps.bus) await bus.close();
    },
  };
}
