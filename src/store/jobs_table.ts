// Job rows (SQLite or PostgreSQL). JSON columns hold input, progress and result; times are epoch
// milliseconds in the table and ISO strings in records.
import type { ComputeBackend } from "../gpu/backend.ts";
import type { SqlDatabase } from "./sql/database.ts";
import type { JobListQuery, JobPatch, JobRecord, JobStatus, JobStore } from "./store.ts";

interface JobRow {
  id: string;
  kind: string;
  status: JobStatus;
  input: string | null;
  progress: string | null;
  error: string | null;
  result: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  backend: ComputeBackend | null;
}

const toJson = (value: unknown): string | null =>
  value === undefined || value === null ? null : JSON.stringify(value);
const fromJson = (text: string | null): unknown => (text === null ? null : JSON.parse(text));
const toIso = (
  ms: number | null,
): string | null => (ms === null ? null : new Date(ms).toISOString());
const toMs = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    input: fromJson(row.input),
    progress: fromJson(row.progress) as JobRecord["progress"],
    error: row.error,
    result: fromJson(row.result),
    createdAt: toIso(row.created_at)!,
    startedAt: toIso(row.started_at),
    finishedAt: toIso(row.finished_at),
    backend: row.backend ?? null,
  };
}

const COLUMNS: Record<keyof JobPatch, { column: string; encode: (v: never) => unknown }> = {
  status: { column: "status", encode: (v: string) => v },
  progress: { column: "progress", encode: toJson },
  error: { column: "error", encode: (v: string | null) => v },
  result: { column: "result", encode: toJson },
  startedAt: { column: "started_at", encode: toMs },
  finishedAt: { column: "finished_at", encode: toMs },
  backend: { column: "backend", encode: (v: string | null) => v },
};

export class SqlJobStore implements JobStore {
  constructor(private readonly db: SqlDatabase) {}

  create(job: { id: string; kind: string; input: unknown }): JobRecord {
    const now = Date.now();
    this.db.prepare(
      "INSERT INTO jobs (id, kind, status, input, created_at) VALUES (?, ?, 'queued', ?, ?)",
    ).run(job.id, job.kind, toJson(job.input), now);
    return this.get(job.id)!;
  }

  update(id: string, patch: JobPatch): void {
    const sets: string[] = [];
    const values: (string | number | null)[] = [];
    for (const [key, value] of Object.entries(patch)) {
      const spec = COLUMNS[key as keyof JobPatch];
      if (!spec || value === undefined) continue;
      sets.push(`${spec.column} = ?`);
      values.push(spec.encode(value as never) as string | number | null);
    }
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE jobs SET ${sets.join(", ")} WHERE id = ?`).run(...values, id);
  }

  get(id: string): JobRecord | null {
    const row = this.db.prepare("SELECT * FROM jobs WHERE id = ?").get(id) as JobRow | undefined;
    return row ? toRecord(row) : null;
  }

  list(query: JobListQuery): { jobs: JobRecord[]; total: number } {
    const where: string[] = [];
    const values: string[] = [];
    if (query.status) {
      where.push("status = ?");
      values.push(query.status);
    }
    if (query.kind) {
      where.push("kind = ?");
      values.push(query.kind);
    }
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const { total } = this.db.prepare(`SELECT COUNT(*) AS total FROM jobs ${clause}`)
      .get(...values) as { total: number };
    // Jobs created in the same millisecond keep their order of creation.
    const order = this.db.dialect === "postgres" ? "seq" : "rowid";
    const rows = this.db.prepare(
      `SELECT * FROM jobs ${clause} ORDER BY created_at DESC, ${order} DESC LIMIT ? OFFSET ?`,
    ).all(...values, query.limit, query.offset) as unknown as JobRow[];
    return { jobs: rows.map(toRecord), total };
  }

  failUnfinished(error: string): number {
    const result = this.db.prepare(
      `UPDATE jobs SET status = 'failed', error = ?, finished_at = ?
       WHERE status IN ('queued', 'running')`,
    ).run(error, Date.now());
    return Number(result.changes);
  }
}
