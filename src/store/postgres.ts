// The Store on PostgreSQL (SIMFLUENCE_DATABASE_URL=postgres://…), shared by every node of a
// cluster. The same store modules as on SQLite run on it through PostgresDatabase; each module
// brings its PostgreSQL migrations. Unlike SqliteStore, opening marks no job or record as
// interrupted: other nodes may be running them, and the job queue (not the store) finds the work
// of nodes that died.
import { CORE_MODULE, CORE_POSTGRES_MIGRATIONS, migrate, type Migration } from "./migrations.ts";
import { PostgresDatabase } from "./sql/postgres_database.ts";
import type { StoreModule } from "./store.ts";
import { SqlStore } from "./sql_store.ts";
import type { BlobStore } from "./blobs/blob_store.ts";
import { localBlobStore } from "./blobs/select.ts";

export interface OpenPostgresStoreOptions {
  url: string;
  /** This node's own data directory (never shared between nodes). */
  dataDir: string;
  modules?: readonly StoreModule<unknown>[];
  /** Shown in pg_stat_activity, e.g. the node id. */
  applicationName?: string;
  /** Where tensors live; a cluster's nodes share it (default: this node's data directory). */
  blobs?: BlobStore;
}

// Advisory lock keys (any two fixed 64-bit numbers unlikely to collide with an operator's own).
/** Held while a node migrates, so nodes starting together apply each migration once. */
const MIGRATION_LOCK = 0x51f1_0001;
/**
 * Taken by every write transaction: transactions across the cluster run one at a time, as SQLite's
 * BEGIN IMMEDIATE makes them on one host, so a module's read-check-write (a unique run name, a
 * study's test set) stays correct without per-module locking. Single statements outside a
 * transaction do not take it.
 */
export const WRITE_LOCK = 0x51f1_0002;

export class PostgresStore extends SqlStore<PostgresDatabase> {
  private constructor(
    db: PostgresDatabase,
    dataDir: string,
    modules: readonly StoreModule<unknown>[],
    blobs: BlobStore,
  ) {
    super(db, dataDir, blobs, `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
    // No recovery hooks: the work they would mark failed may be running on another node.
    this.openModules(modules, false);
  }

  static async open(options: OpenPostgresStoreOptions): Promise<PostgresStore> {
    const modules = options.modules ?? [];
    const all: { name: string; migrations: readonly Migration[] }[] = [
      { name: CORE_MODULE, migrations: CORE_POSTGRES_MIGRATIONS },
    ];
    for (const m of modules) {
      if (all.some((x) => x.name === m.name)) {
        throw new Error(`store module "${m.name}" registered twice`);
      }
      if (!m.postgresMigrations) {
        throw new Error(`store module "${m.name}" has no PostgreSQL migrations`);
      }
      all.push({ name: m.name, migrations: m.postgresMigrations });
    }
    Deno.mkdirSync(options.dataDir, { recursive: true });
    const db = await PostgresDatabase.connect({
      url: options.url,
      applicationName: options.applicationName,
    });
    try {
      db.exec(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
      try {
        for (const m of all) migrate(db, m.name, m.migrations);
      } finally {
        db.exec(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
      }
      return new PostgresStore(
        db,
        options.dataDir,
        modules,
        options.blobs ?? localBlobStore(options.dataDir),
      );
    } catch (e) {
      db.close();
      throw e;
    }
  }
}
