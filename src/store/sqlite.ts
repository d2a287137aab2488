// The Store on node:sqlite: one database file in the data directory, WAL mode, the core tables and
// every registered module's migrations at open, and recovery of work that a dead process left
// unfinished (jobs here, each module's own through its `recover` hook).
import { join } from "node:path";
import { SqliteDatabase } from "./sql/sqlite_database.ts";
import { adoptGlobalVersions, CORE_MIGRATIONS, CORE_MODULE, migrate } from "./migrations.ts";
import type { StoreModule } from "./store.ts";
import { SqlStore } from "./sql_store.ts";
import { type Reclaimed, reclaimUnownedTensors } from "./tensor_gc.ts";
import type { BlobStore } from "./blobs/blob_store.ts";

export interface OpenStoreOptions {
  dataDir: string;
  /** The capabilities' stores, in an order that respects their foreign keys. */
  modules?: readonly StoreModule<unknown>[];
  /** Where tensor files go (SIMFLUENCE_BLOB_URL, blobs/select.ts); default <dataDir>/tensors. */
  blobs?: BlobStore;
}

export const INTERRUPTED_ERROR = "interrupted";

export class SqliteStore extends SqlStore<SqliteDatabase> {
  /** Jobs found queued or running at open and marked failed. */
  readonly interruptedAtOpen: number;
  /** Tensor files found at open that nothing owned (a dead process's unfinished work), removed. */
  readonly reclaimedAtOpen: Reclaimed;

  private constructor(
    db: SqliteDatabase,
    dataDir: string,
    modules: readonly StoreModule<unknown>[],
    blobs?: BlobStore,
  ) {
    super(db, dataDir, blobs ?? dataDir, "BEGIN IMMEDIATE");
    // One process owns a data directory, so any unfinished job belongs to a process that died.
    this.interruptedAtOpen = this.jobs.failUnfinished(INTERRUPTED_ERROR);
    this.openModules(modules, true);
    // After every module's tables exist, before any job of this process can write a file.
    this.reclaimedAtOpen = reclaimUnownedTensors(db, this.tensors.blobs);
  }

  static open(options: OpenStoreOptions): SqliteStore {
    const modules = options.modules ?? [];
    const names = new Set([CORE_MODULE]);
    for (const m of modules) {
      if (names.has(m.name)) throw new Error(`store module "${m.name}" registered twice`);
      names.add(m.name);
    }
    Deno.mkdirSync(options.dataDir, { recursive: true });
    const db = new SqliteDatabase(join(options.dataDir, "simfluence.db"));
    try {
      db.exec("PRAGMA journal_mode = WAL");
      // NORMAL is safe with WAL (no corruption); at worst the last commits before power loss are lost.
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      db.exec("PRAGMA busy_timeout = 5000");
      const all = [{ name: CORE_MODULE, migrations: CORE_MIGRATIONS }, ...modules];
      adoptGlobalVersions(db, all);
      for (const m of all) migrate(db, m.name, m.migrations);
      return new SqliteStore(db, options.dataDir, modules, options.blobs);
    } catch (e) {
      db.close();
      throw e;
    }
  }
}
