// The one database surface every store module writes to: a synchronous subset of node:sqlite's
// DatabaseSync, implemented over SQLite (sqlite_database.ts) and over PostgreSQL
// (postgres_database.ts). Statements use `?` placeholders in both; the PostgreSQL side numbers
// them. SQL that differs between the dialects branches on `db.dialect` (see dialect.ts).

export type SqlDialect = "sqlite" | "postgres";

export type SqlValue = null | number | bigint | string | Uint8Array;

export type SqlRow = Record<string, unknown>;

export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number | bigint;
}

export interface SqlStatement {
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
  run(...params: SqlValue[]): SqlRunResult;
}

export interface SqlDatabase {
  readonly dialect: SqlDialect;
  /** Runs one or more statements without parameters (DDL, BEGIN/COMMIT). */
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}
