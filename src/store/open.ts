// Opens the store this configuration names: PostgreSQL when SIMFLUENCE_DATABASE_URL is set (a
// cluster's shared store), otherwise SQLite in the data directory (one process, no setup).
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { STORE_MODULES } from "../store_modules.ts";
import { PostgresStore } from "./postgres.ts";
import { openBlobStore } from "./blobs/select.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";
import type { BlobStore } from "./blobs/blob_store.ts";
import type { SqlDatabase } from "./sql/database.ts";
import { reclaimAfterOpen } from "./tensor_gc.ts";

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  const blobs = openBlobStore(config.blobs, config.dataDir);
  if (blobs.shared) logger.info("tensor storage", { ...blobs.describe() });
  if (config.databaseUrl) {
    if (!blobs.shared) {
      // Allowed (one node on PostgreSQL is a cluster of one), but a second node could not read
      // this node's tensors: say so where an operator looks first.
      logger.warn(
        "SIMFLUENCE_DATABASE_URL is set but SIMFLUENCE_BLOB_URL is not: tensors stay in this " +
          "node's data directory, where other nodes cannot read them; set a shared folder or bucket",
        { dataDir: config.dataDir },
      );
    }
    const store = await PostgresStore.open({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      modules: STORE_MODULES,
      applicationName: `simfluence ${config.nodeId}`,
      blobs,
    });
    logger.info("store opened", { database: "postgres", node: config.nodeId });
    await reclaimShared(store.db, blobs, config, logger);
    return store;
  }
  const store = SqliteStore.open({ dataDir: config.dataDir, modules: STORE_MODULES, blobs });
  if (store.interruptedAtOpen > 0) {
    logger.warn("jobs left unfinished by a previous process were marked failed", {
      count: store.interruptedAtOpen,
    });
  }
  const { unowned, strays } = store.reclaimedAtOpen;
  if (unowned + strays > 0) {
    logger.warn("tensor files no record owned were removed", { unowned, strays });
  }
  await reclaimShared(store.db, blobs, config, logger);
  return store;
}

/** Where other nodes may write (a shared blob store, PostgreSQL): the grace-period clean-up. */
async function reclaimShared(
  db: SqlDatabase,
  blobs: BlobStore,
  config: Config,
  logger: Logger,
): Promise<void> {
  const graceSeconds = config.blobs.graceSeconds;
  try {
    const { unowned, strays } = await reclaimAfterOpen(db, blobs, graceSeconds);
    if (unowned + strays > 0) {
      logger.warn("tensor files unowned for longer than the grace period were removed", {
        unowned,
        strays,
        graceSeconds,
      });
    }
  } catch (e) {
    // An unreachable bucket must not keep the node down; the next start tries again.
    logger.warn("tensor clean-up failed", { error: e instanceof Error ? e.message : String(e) });
  }
}
