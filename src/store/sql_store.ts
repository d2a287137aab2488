// What the SQLite and PostgreSQL stores share: the core stores (jobs, tensor files), the opened
// capability modules, synchronous transactions in the dialect's own BEGIN, the health check and
// closing. Each subclass opens its database, migrates, and decides what recovery runs at open.
import type { BlobStore } from "./blobs/blob_store.ts";
import { SqlJobStore } from "./jobs_table.ts";
import type { SqlDatabase } from "./sql/database.ts";
import { type Store, type StoreModule, UnregisteredStoreModuleError } from "./store.ts";
import { FileTensorStore } from "./tensor_files.ts";
import { Transactions } from "./transactions.ts";

export abstract class SqlStore<D extends SqlDatabase> implements Store {
  readonly jobs: SqlJobStore;
  readonly tensors: FileTensorStore;
  private readonly opened = new Map<string, unknown>();
  private readonly transactions: Transactions;
  private closed = false;

  /** `begin`: the statements that open an outermost write transaction. */
  protected constructor(
    readonly db: D,
    readonly dataDir: string,
    blobs: BlobStore | string,
    begin: string,
  ) {
    this.transactions = new Transactions(db, begin);
    this.jobs = new SqlJobStore(db);
    this.tensors = new FileTensorStore(db, blobs);
  }

  /** Opens every module (in order) and, with `recover`, runs each one's recovery hook. */
  protected openModules(modules: readonly StoreModule<unknown>[], recover: boolean): void {
    const context = {
      db: this.db,
      tensors: this.tensors,
      dataDir: this.dataDir,
      transaction: <T>(fn: () => T) => this.transaction(fn),
    };
    for (const module of modules) {
      const store = module.open(context);
      this.opened.set(module.name, store);
      if (recover) module.recover?.(store);
    }
  }

  get<T>(module: StoreModule<T>): T {
    if (!this.opened.has(module.name)) throw new UnregisteredStoreModuleError(module.name);
    return this.opened.get(module.name) as T;
  }

  transaction<T>(fn: () => T): T {
    return this.transactions.run(fn);
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
