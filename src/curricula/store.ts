// Kept curriculum optimisations in SQLite. A record is created "running" with its job once the
// request has been checked; the job writes its search result when the search ends (so the chosen
// curriculum is kept even when a later verification is cancelled), then its verification, and
// marks it ready. One deleted meanwhile is not brought back.
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";

const CURRICULA_MIGRATIONS: readonly Migration[] = [
  {
    name: "curriculum_optimizations",
    up(db) {
      db.exec(`
        CREATE TABLE curriculum_optimizations (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL,
          method TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          request TEXT NOT NULL,
          result TEXT,
          verification TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX curriculum_optimizations_study ON curriculum_optimizations (study, created_at);
        CREATE INDEX curriculum_optimizations_created ON curriculum_optimizations (created_at);
      `);
    },
  },
];

/** The same table on PostgreSQL; append to both lists from now on. */
const CURRICULA_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE curriculum_optimizations (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL,
          method TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          request TEXT NOT NULL,
          result TEXT,
          verification TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX curriculum_optimizations_study ON curriculum_optimizations (study, created_at);
        CREATE INDEX curriculum_optimizations_created ON curriculum_optimizations (created_at);
      `);
    },
  },
];

export type OptimizationStatus = "running" | "ready" | "failed" | "cancelled";

export interface OptimizationRecord<Q = unknown, R = unknown, V = unknown> {
  id: string;
  study: string;
  /** "simulator" | "scores" | "metagradient" */
  method: string;
  status: OptimizationStatus;
  error: string | null;
  job: string | null;
  /** The request as resolved (defaults applied). */
  request: Q;
  /** The search's result; null until the search ends. */
  result: R | null;
  /** The verification by training (its runs so far, then its statistics); null without one. */
  verification: V | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  study: string;
  method: string;
  status: OptimizationStatus;
  error: string | null;
  job: string | null;
  request: string;
  result: string | null;
  verification: string | null;
  created_at: number;
  updated_at: number;
}

const parse = (text: string | null) => (text === null ? null : JSON.parse(text));

function toRecord<Q, R, V>(row: Row): OptimizationRecord<Q, R, V> {
  return {
    id: row.id,
    study: row.study,
    method: row.method,
    status: row.status,
    error: row.error,
    job: row.job,
    request: JSON.parse(row.request),
    result: parse(row.result),
    verification: parse(row.verification),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export class OptimizationStore {
  constructor(private readonly db: SqlDatabase) {}

  create<Q>(record: { study: string; method: string; request: Q }): OptimizationRecord<Q> {
    const id = crypto.randomUUID();
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO curriculum_optimizations
         (id, study, method, status, request, created_at, updated_at)
       VALUES (?, ?, ?, 'running', ?, ?, ?)`,
    ).run(id, record.study, record.method, JSON.stringify(record.request), now, now);
    return this.get<Q>(id)!;
  }

  setJob(id: string, job: string): void {
    this.db.prepare("UPDATE curriculum_optimizations SET job = ? WHERE id = ?").run(job, id);
  }

  get<Q = unknown, R = unknown, V = unknown>(id: string): OptimizationRecord<Q, R, V> | null {
    const row = this.db.prepare("SELECT * FROM curriculum_optimizations WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row ? toRecord<Q, R, V>(row) : null;
  }

  /** Newest first, of one study or all. */
  list(filter: { study?: string; limit: number; offset: number }): {
    items: OptimizationRecord[];
    total: number;
  } {
    const where = filter.study === undefined ? "" : "WHERE study = ?";
    const args = filter.study === undefined ? [] : [filter.study];
    const rows = this.db.prepare(
      `SELECT * FROM curriculum_optimizations ${where}
       ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
    ).all(...args, filter.limit, filter.offset) as unknown as Row[];
    const { n } = this.db.prepare(
      `SELECT COUNT(*) AS n FROM curriculum_optimizations ${where}`,
    ).get(...args) as { n: number };
    return { items: rows.map((r) => toRecord(r)), total: n };
  }

  /** Stores the search's result of a running record; false when it was deleted or stopped. */
  setResult(id: string, result: unknown): boolean {
    return this.update(id, "result", result);
  }

  /** Stores the verification so far (its runs as each is recorded, then its statistics). */
  setVerification(id: string, verification: unknown): boolean {
    return this.update(id, "verification", verification);
  }

  /** Marks a running record ready; false when it was deleted or stopped meanwhile. */
  markReady(id: string): boolean {
    const changed = this.db.prepare(
      `UPDATE curriculum_optimizations SET status = 'ready', updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(Date.now(), id).changes;
    return Number(changed) > 0;
  }

  markStopped(id: string, status: "failed" | "cancelled", error: string): void {
    this.db.prepare(
      `UPDATE curriculum_optimizations SET status = ?, error = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(status, error, Date.now(), id);
  }

  /** False when there was none. */
  delete(id: string): boolean {
    return Number(
      this.db.prepare("DELETE FROM curriculum_optimizations WHERE id = ?").run(id).changes,
    ) > 0;
  }

  /** Optimisations a dead process left running can never finish. */
  failUnfinished(): void {
    this.db.prepare(
      `UPDATE curriculum_optimizations SET status = 'failed', error = 'interrupted', updated_at = ?
       WHERE status = 'running'`,
    ).run(Date.now());
  }

  private update(id: string, column: "result" | "verification", value: unknown): boolean {
    const changed = this.db.prepare(
      `UPDATE curriculum_optimizations SET ${column} = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(JSON.stringify(value), Date.now(), id).changes;
    return Number(changed) > 0;
  }
}

/** Kept curriculum optimisations (POST /v1/curricula/optimize). */
export const CURRICULA = defineStoreModule({
  name: "curricula",
  migrations: CURRICULA_MIGRATIONS,
  postgresMigrations: CURRICULA_POSTGRES_MIGRATIONS,
  open: (context) => new OptimizationStore(context.db),
  recover: (store) => store.failUnfinished(),
});
