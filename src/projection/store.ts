// Projected-gradient sets in SQLite. A record is created "running" with its job; the job writes
// the [n, dim] matrix as one checksummed safetensors file (store/tensor_files.ts), then marks the
// record ready in one statement. A record deleted or stopped meanwhile is not resurrected: the
// job's file is then removed.
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule, type TensorStore } from "../store/store.ts";

const MIGRATIONS: readonly Migration[] = [
  {
    name: "projected_gradients",
    up(db) {
      db.exec(`
        CREATE TABLE projected_gradients (
          id TEXT PRIMARY KEY,
          model TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          spec TEXT NOT NULL,
          summary TEXT,
          tensor TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX projected_gradients_created ON projected_gradients (created_at);
      `);
    },
  },
];

export type GradientsStatus = "running" | "ready" | "failed" | "cancelled";

export interface GradientsRecord<S = unknown, R = unknown> {
  id: string;
  /** The model's key: a model id, or "run:<run id>@<step>" for a run's checkpoint. */
  model: string;
  status: GradientsStatus;
  error: string | null;
  job: string | null;
  spec: S;
  summary: R | null;
  tensor: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  model: string;
  status: GradientsStatus;
  error: string | null;
  job: string | null;
  spec: string;
  summary: string | null;
  tensor: string | null;
  created_at: number;
  updated_at: number;
}

function toRecord<S, R>(row: Row): GradientsRecord<S, R> {
  return {
    id: row.id,
    model: row.model,
    status: row.status,
    error: row.error,
    job: row.job,
    spec: JSON.parse(row.spec),
    summary: row.summary === null ? null : JSON.parse(row.summary),
    tensor: row.tensor,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export class GradientsStore {
  constructor(private readonly deps: { db: SqlDatabase; tensors: TensorStore }) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  create<S>(record: { model: string; spec: S }): GradientsRecord<S> {
    const id = crypto.randomUUID();
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO projected_gradients (id, model, status, spec, created_at, updated_at)
       VALUES (?, ?, 'running', ?, ?, ?)`,
    ).run(id, record.model, JSON.stringify(record.spec), now, now);
    return this.get<S>(id)!;
  }

  setJob(id: string, job: string): void {
    this.db.prepare("UPDATE projected_gradients SET job = ? WHERE id = ?").run(job, id);
  }

  get<S = unknown, R = unknown>(id: string): GradientsRecord<S, R> | null {
    const row = this.db.prepare("SELECT * FROM projected_gradients WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row ? toRecord<S, R>(row) : null;
  }

  /** Newest first. */
  list<S = unknown, R = unknown>(limit: number, offset: number) {
    const rows = this.db.prepare(
      "SELECT * FROM projected_gradients ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
    ).all(limit, offset) as unknown as Row[];
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM projected_gradients").get() as {
      n: number;
    };
    return { items: rows.map((r) => toRecord<S, R>(r)), total: n };
  }

  /** Marks a running record ready; false (and the file removed) when it was deleted or stopped. */
  async markReady(id: string, summary: unknown, tensor: string): Promise<boolean> {
    const changed = this.db.prepare(
      `UPDATE projected_gradients SET status = 'ready', summary = ?, tensor = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(JSON.stringify(summary), tensor, Date.now(), id).changes;
    if (Number(changed) === 0) {
      await this.deps.tensors.delete(tensor);
      return false;
    }
    return true;
  }

  markStopped(id: string, status: "failed" | "cancelled", error: string): void {
    this.db.prepare(
      `UPDATE projected_gradients SET status = ?, error = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(status, error, Date.now(), id);
  }

  /** Deletes the record and its file; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const record = this.get(id);
    if (!record) return false;
    this.db.prepare("DELETE FROM projected_gradients WHERE id = ?").run(id);
    if (record.tensor) await this.deps.tensors.delete(record.tensor);
    return true;
  }

  /** Work a dead process left running can never finish. */
  failUnfinished(): void {
    this.db.prepare(
      `UPDATE projected_gradients SET status = 'failed', error = 'interrupted', updated_at = ?
       WHERE status = 'running'`,
    ).run(Date.now());
  }
}

/** Projected per-example gradients. */
/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE projected_gradients (
          id TEXT PRIMARY KEY,
          model TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          spec TEXT NOT NULL,
          summary TEXT,
          tensor TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX projected_gradients_created ON projected_gradients (created_at);
      `);
    },
  },
];

export const GRADIENTS = defineStoreModule({
  name: "projection",
  migrations: MIGRATIONS,
  postgresMigrations: POSTGRES_MIGRATIONS,
  open: (context) => new GradientsStore(context),
  recover: (store) => store.failUnfinished(),
});
