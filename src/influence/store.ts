// Influence factors and score sets in SQLite. A record is created "running" with its job; the job
// writes its tensors as one checksummed safetensors file (temp name, fsync, rename: see
// store/tensor_files.ts), then marks the record ready in one statement. A record that was
// deleted or cancelled meanwhile is not resurrected: the job's file is then removed.
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule, type TensorStore } from "../store/store.ts";

const INFLUENCE_MIGRATIONS: readonly Migration[] = [
  {
    name: "influence_factors_and_scores",
    up(db) {
      for (const table of ["influence_factors", "influence_scores"]) {
        db.exec(`
          CREATE TABLE ${table} (
            id TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            parent TEXT,
            status TEXT NOT NULL
              CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
            error TEXT,
            job TEXT,
            spec TEXT NOT NULL,
            summary TEXT,
            tensor TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
          );
          CREATE INDEX ${table}_created ON ${table} (created_at);
        `);
      }
    },
  },
];

export type InfluenceStatus = "running" | "ready" | "failed" | "cancelled";
export type InfluenceKind = "factors" | "scores";

export interface InfluenceRecord<S = unknown, R = unknown> {
  id: string;
  kind: InfluenceKind;
  model: string;
  /** Scores: the factors they were computed with. */
  parent: string | null;
  status: InfluenceStatus;
  error: string | null;
  job: string | null;
  /** The request as resolved (defaults applied, ids listed). */
  spec: S;
  /** What the job found (counts, shapes, per-module figures); null until ready. */
  summary: R | null;
  /** The result file (tensor store id); null until ready. */
  tensor: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  model: string;
  parent: string | null;
  status: InfluenceStatus;
  error: string | null;
  job: string | null;
  spec: string;
  summary: string | null;
  tensor: string | null;
  created_at: number;
  updated_at: number;
}

const TABLES: Record<InfluenceKind, string> = {
  factors: "influence_factors",
  scores: "influence_scores",
};

function toRecord<S, R>(kind: InfluenceKind, row: Row): InfluenceRecord<S, R> {
  return {
    id: row.id,
    kind,
    model: row.model,
    parent: row.parent,
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

export interface InfluenceStoreDeps {
  db: SqlDatabase;
  tensors: TensorStore;
}

export class InfluenceStore {
  constructor(private readonly deps: InfluenceStoreDeps) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  create<S>(
    kind: InfluenceKind,
    record: { id?: string; model: string; parent?: string | null; spec: S },
  ): InfluenceRecord<S> {
    const id = record.id ?? crypto.randomUUID();
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO ${TABLES[kind]} (id, model, parent, status, spec, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?)`,
    ).run(id, record.model, record.parent ?? null, JSON.stringify(record.spec), now, now);
    return this.get<S>(kind, id)!;
  }

  setJob(kind: InfluenceKind, id: string, job: string): void {
    this.db.prepare(`UPDATE ${TABLES[kind]} SET job = ? WHERE id = ?`).run(job, id);
  }

  get<S = unknown, R = unknown>(kind: InfluenceKind, id: string): InfluenceRecord<S, R> | null {
    const row = this.db.prepare(`SELECT * FROM ${TABLES[kind]} WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return row ? toRecord<S, R>(kind, row) : null;
  }

  /** Newest first. */
  list<S = unknown, R = unknown>(
    kind: InfluenceKind,
    limit: number,
    offset: number,
  ): { items: InfluenceRecord<S, R>[]; total: number } {
    const table = TABLES[kind];
    const rows = this.db.prepare(
      `SELECT * FROM ${table} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
    ).all(limit, offset) as unknown as Row[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number };
    return { items: rows.map((r) => toRecord<S, R>(kind, r)), total: n };
  }

  /**
   * Marks a running record ready with its result file; false (and the file removed) when the
   * record was deleted or stopped meanwhile.
   */
  async markReady(kind: InfluenceKind, id: string, summary: unknown, tensor: string) {
    const changed = this.db.prepare(
      `UPDATE ${TABLES[kind]} SET status = 'ready', summary = ?, tensor = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(JSON.stringify(summary), tensor, Date.now(), id).changes;
    if (Number(changed) === 0) {
      await this.deps.tensors.delete(tensor);
      return false;
    }
    return true;
  }

  /** Marks a running record failed or cancelled. */
  markStopped(kind: InfluenceKind, id: string, status: "failed" | "cancelled", error: string) {
    this.db.prepare(
      `UPDATE ${TABLES[kind]} SET status = ?, error = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(status, error, Date.now(), id);
  }

  /** Deletes the record and its file; false when there was none. */
  async delete(kind: InfluenceKind, id: string): Promise<boolean> {
    const record = this.get(kind, id);
    if (!record) return false;
    this.db.prepare(`DELETE FROM ${TABLES[kind]} WHERE id = ?`).run(id);
    if (record.tensor) await this.deps.tensors.delete(record.tensor);
    return true;
  }

  /** Work a dead process left running can never finish. */
  failUnfinished(): void {
    for (const table of Object.values(TABLES)) {
      this.db.prepare(
        `UPDATE ${table} SET status = 'failed', error = 'interrupted', updated_at = ?
         WHERE status = 'running'`,
      ).run(Date.now());
    }
  }
}

/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const INFLUENCE_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      for (const table of ["influence_factors", "influence_scores"]) {
        db.exec(`
          CREATE TABLE ${table} (
            id TEXT PRIMARY KEY,
            model TEXT NOT NULL,
            parent TEXT,
            status TEXT NOT NULL
              CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
            error TEXT,
            job TEXT,
            spec TEXT NOT NULL,
            summary TEXT,
            tensor TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
          );
          CREATE INDEX ${table}_created ON ${table} (created_at);
        `);
      }
    },
  },
];

/** Influence factors and score sets. */
export const INFLUENCE = defineStoreModule({
  name: "influence",
  migrations: INFLUENCE_MIGRATIONS,
  postgresMigrations: INFLUENCE_POSTGRES_MIGRATIONS,
  open: (context) => new InfluenceStore(context),
  recover: (store) => store.failUnfinished(),
});
