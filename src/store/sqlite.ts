// The Store on node:sqlite: one database file in the data directory, WAL mode, migrations at open,
// and recovery of jobs that a dead process left unfinished.
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { migrate, type Migration, MIGRATIONS } from "./migrations.ts";
import { SqliteJobStore } from "./jobs_table.ts";
import { FileTensorStore } from "./tensor_files.ts";
import type { Store } from "./store.ts";
import { RunStore } from "../runs/run_store.ts";
import { SimulatorStore } from "../simfluence/simulator_store.ts";
import { DatasetStore } from "../datasets/dataset_store.ts";
import { ModelStore } from "../models/model_store.ts";

export interface OpenStoreOptions {
  dataDir: string;
  migrations?: readonly Migration[];
}

export const INTERRUPTED_ERROR = "interrupted";

export class SqliteStore implements Store {
  readonly jobs: SqliteJobStore;
  readonly tensors: FileTensorStore;
  readonly runs: RunStore;
  readonly simulators: SimulatorStore;
  readonly datasets: DatasetStore;
  readonly models: ModelStore;
  /** Jobs found queued or running at open and marked failed. */
  readonly interruptedAtOpen: number;
  private depth = 0;
  private closed = false;

  private constructor(readonly db: DatabaseSync, readonly dataDir: string) {
    this.jobs = new SqliteJobStore(db);
    this.tensors = new FileTensorStore(db, dataDir);
    this.runs = new RunStore({
      db,
      tensors: this.tensors,
      transaction: (fn) => this.transaction(fn),
    });
    // One process owns a data directory, so any unfinished job belongs to a process that died.
    this.interruptedAtOpen = this.jobs.failUnfinished(INTERRUPTED_ERROR);
    this.simulators = new SimulatorStore({ db, tensors: this.tensors });
    this.simulators.failUnfinished();
    this.datasets = new DatasetStore({ db, transaction: (fn) => this.transaction(fn) });
    this.models = new ModelStore({ db, tensors: this.tensors });
  }

  static open(options: OpenStoreOptions): SqliteStore {
    Deno.mkdirSync(options.dataDir, { recursive: true });
    const db = new DatabaseSync(join(options.dataDir, "simfluence.db"));
    try {
      db.exec("PRAGMA journal_mode = WAL");
      // NORMAL is safe with WAL (no corruption); at worst the last commits before power loss are lost.
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      db.exec("PRAGMA busy_timeout = 5000");
      migrate(db, options.migrations ?? MIGRATIONS);
      return new SqliteStore(db, options.dataDir);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  transaction<T>(fn: () => T): T {
    const savepoint = `sp${this.depth}`;
    this.db.exec(this.depth === 0 ? "BEGIN IMMEDIATE" : `SAVEPOINT ${savepoint}`);
    this.depth++;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        // The transaction would commit before the awaited work ran.
        result.catch(() => {});
        throw new TypeError("transaction callbacks must be synchronous");
      }
    } catch (e) {
      this.depth--;
      this.db.exec(
        this.depth === 0 ? "ROLLBACK" : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`,
      );
      throw e;
    }
    this.depth--;
    this.db.exec(this.depth === 0 ? "COMMIT" : `RELEASE ${savepoint}`);
    return result;
  }

  problem(): string | null {
    if (this.closed) return "store is closed";
    try {
      this.db.prepare("SELECT 1").get();
      return null;
    } catch (e) {
      return `database error: ${e instanceof Error ? e.message : e}`;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
