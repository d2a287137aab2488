// Kept evaluations (LDS) in SQLite. A record is created "running" with its job when the request
// has been checked; the job writes its result into it and marks it ready in one statement. One
// deleted meanwhile (DELETE /v1/evaluations/:id, or with its study) is not brought back.
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";

const EVALUATION_MIGRATIONS: readonly Migration[] = [
  {
    name: "evaluations",
    up(db) {
      db.exec(`
        CREATE TABLE evaluations (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('lds')),
          study TEXT NOT NULL,
          method TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          request TEXT NOT NULL,
          result TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX evaluations_study ON evaluations (study, created_at);
        CREATE INDEX evaluations_created ON evaluations (created_at);
      `);
    },
  },
];

export type EvaluationKind = "lds";
export type EvaluationStatus = "running" | "ready" | "failed" | "cancelled";

export interface EvaluationRecord<M = unknown, Q = unknown, R = unknown> {
  id: string;
  kind: EvaluationKind;
  study: string;
  /** What was evaluated, e.g. {simulator} or {scores}. */
  method: M;
  status: EvaluationStatus;
  error: string | null;
  job: string | null;
  /** The request as resolved (runs, defaults applied). */
  request: Q;
  /** What the job found; null until ready. */
  result: R | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  id: string;
  kind: EvaluationKind;
  study: string;
  method: string;
  status: EvaluationStatus;
  error: string | null;
  job: string | null;
  request: string;
  result: string | null;
  created_at: number;
  updated_at: number;
}

function toRecord<M, Q, R>(row: Row): EvaluationRecord<M, Q, R> {
  return {
    id: row.id,
    kind: row.kind,
    study: row.study,
    method: JSON.parse(row.method),
    status: row.status,
    error: row.error,
    job: row.job,
    request: JSON.parse(row.request),
    result: row.result === null ? null : JSON.parse(row.result),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export class EvaluationStore {
  constructor(private readonly db: SqlDatabase) {}

  create<M, Q>(
    record: { kind: EvaluationKind; study: string; method: M; request: Q },
  ): EvaluationRecord<M, Q> {
    const id = crypto.randomUUID();
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO evaluations (id, kind, study, method, status, request, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
    ).run(
      id,
      record.kind,
      record.study,
      JSON.stringify(record.method),
      JSON.stringify(record.request),
      now,
      now,
    );
    return this.get<M, Q>(id)!;
  }

  setJob(id: string, job: string): void {
    this.db.prepare("UPDATE evaluations SET job = ? WHERE id = ?").run(job, id);
  }

  get<M = unknown, Q = unknown, R = unknown>(id: string): EvaluationRecord<M, Q, R> | null {
    const row = this.db.prepare("SELECT * FROM evaluations WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row ? toRecord<M, Q, R>(row) : null;
  }

  /** Newest first, of one study or all. */
  list<M = unknown, Q = unknown, R = unknown>(
    filter: { study?: string; limit: number; offset: number },
  ): { items: EvaluationRecord<M, Q, R>[]; total: number } {
    const where = filter.study === undefined ? "" : "WHERE study = ?";
    const args = filter.study === undefined ? [] : [filter.study];
    const rows = this.db.prepare(
      `SELECT * FROM evaluations ${where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
    ).all(...args, filter.limit, filter.offset) as unknown as Row[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM evaluations ${where}`).get(
      ...args,
    ) as { n: number };
    return { items: rows.map((r) => toRecord<M, Q, R>(r)), total: n };
  }

  /** Stores a running record's result; false when it was deleted or stopped meanwhile. */
  markReady(id: string, result: unknown): boolean {
    const changed = this.db.prepare(
      `UPDATE evaluations SET status = 'ready', result = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(JSON.stringify(result), Date.now(), id).changes;
    return Number(changed) > 0;
  }

  markStopped(id: string, status: "failed" | "cancelled", error: string): void {
    this.db.prepare(
      `UPDATE evaluations SET status = ?, error = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
    ).run(status, error, Date.now(), id);
  }

  /** False when there was none. */
  delete(id: string): boolean {
    return Number(this.db.prepare("DELETE FROM evaluations WHERE id = ?").run(id).changes) > 0;
  }

  /** The jobs of a study's evaluations still running (to cancel before the study goes). */
  runningJobsOfStudy(study: string): string[] {
    const rows = this.db.prepare(
      "SELECT job FROM evaluations WHERE study = ? AND status = 'running' AND job IS NOT NULL",
    ).all(study) as { job: string }[];
    return rows.map((r) => r.job);
  }

  /** Deletes a study's evaluations (inside the study's delete transaction); how many. */
  deleteRowsOfStudy(study: string): number {
    return Number(this.db.prepare("DELETE FROM evaluations WHERE study = ?").run(study).changes);
  }

  /** Evaluations a dead process left running can never finish. */
  failUnfinished(): void {
    this.db.prepare(
      `UPDATE evaluations SET status = 'failed', error = 'interrupted', updated_at = ?
       WHERE status = 'running'`,
    ).run(Date.now());
  }
}

/** Kept evaluations (LDS). */
/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const EVALUATION_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE evaluations (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL CHECK (kind IN ('lds')),
          study TEXT NOT NULL,
          method TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('running', 'ready', 'failed', 'cancelled')),
          error TEXT,
          job TEXT,
          request TEXT NOT NULL,
          result TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX evaluations_study ON evaluations (study, created_at);
        CREATE INDEX evaluations_created ON evaluations (created_at);
      `);
    },
  },
];

export const EVALUATIONS = defineStoreModule({
  name: "evaluations",
  migrations: EVALUATION_MIGRATIONS,
  postgresMigrations: EVALUATION_POSTGRES_MIGRATIONS,
  open: (context) => new EvaluationStore(context.db),
  recover: (store) => store.failUnfinished(),
});
