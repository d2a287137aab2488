// Opens the store this configuration names: PostgreSQL when SIMFLUENCE_DATABASE_URL is set (a
// cluster's shared store), otherwise SQLite in the data directory (one process, no setup).
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { STORE_MODULES } from "../store_modules.ts";
import { PostgresStore } from "./postgres.ts";
import { openBlobStore } from "./blobs/select.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

export async function openStore(config: Config, logger: Logger): Promise<Store> {
  if (config.databaseUrl) {
    const store = await PostgresStore.open({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      modules: STORE_MODULES,
      applicationName: `simfluence ${config.nodeId}`,
      blobs: openBlobStore(config.blobs, config.dataDir),
    });
    logger.info("store opened", { database: "postgres", node: config.nodeId });
    return store;
  }
  const store = SqliteStore.open({ dataDir: config.dataDir, modules: STORE_MODULES });
  if (store.interruptedAtOpen > 0) {
    logger.warn("jobs left unfinished by a previous process were marked failed", {
      count: store.interruptedAtOpen,
    });
  }
  const { unowned, strays } = store.reclaimedAtOpen;
  if (unowned + strays > 0) {
    logger.warn("tensor files no record owned were removed", { unowned, strays });
  }
  return store;
}
