// What store:copy has done so far, kept in the target database itself: the source it copies and
// the blob store it writes (one row of store_copy), and per table the last source rowid copied
// (store_copy_tables). A batch's rows and its progress commit in one transaction, so a copy cut
// off anywhere resumes exactly after its last committed batch. A finished copy keeps its row as
// the record of where the cluster's data came from.
import type { SqlDatabase } from "../sql/database.ts";

export interface CopyMarker {
  /** The source data directory (its real path). */
  source: string;
  /** Where the tensors went (a folder or s3://bucket/prefix; never a credential). */
  blobs: string;
  startedAt: number;
  finishedAt: number | null;
}

export interface TableProgress {
  /** The source rowid of the last row copied (0: none yet). */
  lastRowid: number;
  rows: number;
  done: boolean;
}

export class CopyProgress {
  constructor(private readonly db: SqlDatabase) {}

  /** Creates the bookkeeping tables when missing (they are not part of any module's schema). */
  ensureTables(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS store_copy (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        source TEXT NOT NULL,
        blobs TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        finished_at BIGINT
      );
      CREATE TABLE IF NOT EXISTS store_copy_tables (
        name TEXT PRIMARY KEY,
        last_rowid BIGINT NOT NULL,
        rows BIGINT NOT NULL,
        done INTEGER NOT NULL
      );
    `);
  }

  marker(): CopyMarker | null {
    const row = this.db.prepare("SELECT * FROM store_copy WHERE id = 1").get() as
      | { source: string; blobs: string; started_at: number; finished_at: number | null }
      | undefined;
    if (!row) return null;
    return {
      source: row.source,
      blobs: row.blobs,
      startedAt: Number(row.started_at),
      finishedAt: row.finished_at === null ? null : Number(row.finished_at),
    };
  }

  begin(source: string, blobs: string): void {
    this.db.prepare(
      "INSERT INTO store_copy (id, source, blobs, started_at) VALUES (1, ?, ?, ?)",
    ).run(source, blobs, Date.now());
  }

  table(name: string): TableProgress {
    const row = this.db.prepare("SELECT * FROM store_copy_tables WHERE name = ?").get(name) as
      | { last_rowid: number; rows: number; done: number }
      | undefined;
    if (!row) return { lastRowid: 0, rows: 0, done: false };
    return {
      lastRowid: Number(row.last_rowid),
      rows: Number(row.rows),
      done: Number(row.done) === 1,
    };
  }

  /** Records a committed batch; call inside the batch's transaction. */
  advance(name: string, lastRowid: number, added: number, done: boolean): void {
    const current = this.table(name);
    this.db.prepare(
      `INSERT INTO store_copy_tables (name, last_rowid, rows, done) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_rowid = excluded.last_rowid, rows = excluded.rows,
         done = excluded.done`,
    ).run(name, lastRowid, current.rows + added, done ? 1 : 0);
  }

  finish(): void {
    this.db.prepare("UPDATE store_copy SET finished_at = ? WHERE id = 1").run(Date.now());
  }
}
