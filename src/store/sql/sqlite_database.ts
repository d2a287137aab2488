// SqlDatabase over node:sqlite: DatabaseSync already has the shape; this only names the dialect.
import { DatabaseSync } from "node:sqlite";
import type { SqlDatabase, SqlStatement } from "./database.ts";

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = "sqlite" as const;
  readonly raw: DatabaseSync;

  /** Opens `path`, or wraps an already open database (tests open read-only ones). */
  constructor(pathOrDatabase: string | DatabaseSync) {
    this.raw = typeof pathOrDatabase === "string"
      ? new DatabaseSync(pathOrDatabase)
      : pathOrDatabase;
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  prepare(sql: string): SqlStatement {
    return this.raw.prepare(sql) as unknown as SqlStatement;
  }

  close(): void {
    this.raw.close();
  }
}
