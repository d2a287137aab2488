// What the HTTP side of a node shares with the rest of its cluster (PostgreSQL mode): simulations
// (computed on the node that took them, watched from any), failed-authentication counts and the
// stream-token key. Made
// before the app, since the routes take them at creation. Their tables are migrated here, under a
// lock of their own, as the nodes table is (src/cluster/node.ts).
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { migrate } from "../store/migrations.ts";
import type { PostgresStore } from "../store/postgres.ts";
import { CLUSTER_AUTH_FAILURES, SharedFailedAuthLimiter } from "./auth_failures.ts";
import { type ClusterBus, PostgresBus } from "./bus.ts";
import { CLUSTER_SIMULATIONS, SimulationLogStore } from "./simulation_log_store.ts";
import { ClusterSimulations, type ClusterSimulationsOptions } from "./simulations.ts";
import { CLUSTER_SECRETS, clusterStreamTokenKey } from "./stream_token_key.ts";
import { StreamTokens } from "../http/stream_tokens.ts";

/** Held while these tables migrate (nodes starting together apply each migration once). */
const MIGRATION_LOCK = 0x51f1_0004;

export interface SharedHttpState {
  /** The node's bus (joinCluster uses it too: one listening connection per node). */
  bus: ClusterBus;
  simulations: ClusterSimulations;
  authFailures: SharedFailedAuthLimiter;
  /** Signed with the cluster's key: a stream token minted on one node opens its stream on any. */
  streamTokens: StreamTokens;
  /** Last (after the cluster's jobs): ends the simulations' bookkeeping and leaves the bus. */
  close(): Promise<void>;
}

/** Creates the tables these need (idempotent; safe while other nodes start). */
export function migrateSharedHttpState(store: PostgresStore): void {
  store.db.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
  try {
    for (const module of [CLUSTER_SIMULATIONS, CLUSTER_AUTH_FAILURES, CLUSTER_SECRETS]) {
      migrate(store.db, module.name, module.postgresMigrations!);
    }
  } finally {
    store.db.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
  }
}

export async function openSharedHttpState(deps: {
  config: Config & { databaseUrl: string };
  store: PostgresStore;
  logger: Logger;
  /** A bus already open on this node; otherwise one of its own (closed with it). */
  bus?: ClusterBus;
  simulations?: Partial<Pick<ClusterSimulationsOptions, "ttlMs" | "lostAfterMs" | "heartbeatMs">>;
}): Promise<SharedHttpState> {
  const { config, store, logger } = deps;
  migrateSharedHttpState(store);
  const bus = deps.bus ?? await PostgresBus.open(config.databaseUrl, store.db, logger);
  const simulations = new ClusterSimulations({
    log: new SimulationLogStore(store.db),
    bus,
    node: config.nodeId,
    logger,
    registry: { maxRunning: config.maxSimulations },
    ...deps.simulations,
  });
  const authFailures = new SharedFailedAuthLimiter({ db: store.db, bus, logger });
  return {
    bus,
    simulations,
    authFailures,
    streamTokens: new StreamTokens({ key: clusterStreamTokenKey(store.db) }),
    close: async () => {
      simulations.shutdown();
      authFailures.close();
      if (!deps.bus) await bus.close();
    },
  };
}
