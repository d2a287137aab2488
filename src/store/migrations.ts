// Schema migrations, versioned per module: each module's list is applied in order, once each,
// every migration in its own transaction, with (module, version) recorded in schema_versions.
// Append new migrations to a module's list; never edit old ones.
import type { SqlDatabase } from "./sql/database.ts";

export interface Migration {
  name: string;
  up(db: SqlDatabase): void;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

/** The core store's own tables (jobs, tensor files); feature modules declare theirs. */
export const CORE_MODULE = "store";

export const CORE_MIGRATIONS: readonly Migration[] = [
  {
    name: "jobs",
    up(db) {
      db.exec(`
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          kind TEXT NOT NULL,
          status TEXT NOT NULL
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
          input TEXT,
          progress TEXT,
          error TEXT,
          result TEXT,
          created_at INTEGER NOT NULL,
          started_at INTEGER,
          finished_at INTEGER
        );
        CREATE INDEX jobs_created ON jobs (created_at DESC);
        CREATE INDEX jobs_status ON jobs (status);
      `);
    },
  },
  {
    name: "tensor_files",
    up(db) {
      db.exec(`
        CREATE TABLE tensor_files (
          id TEXT PRIMARY KEY,
          file TEXT NOT NULL UNIQUE,
          sha256 TEXT NOT NULL,
          bytes INTEGER NOT NULL,
          names TEXT NOT NULL,
          metadata TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
      `);
    },
  },
  {
    // Where a job's kernels ran (webgpu or cpu; src/gpu/backend.ts), set when it starts.
    name: "jobs_backend",
    up(db) {
      db.exec("ALTER TABLE jobs ADD COLUMN backend TEXT");
    },
  },
];

/**
 * The core tables on PostgreSQL. Jobs gain `seq`, the order of creation (SQLite's rowid), and
 * `node`, the node that runs the job.
 */
export const CORE_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE jobs (
          id TEXT PRIMARY KEY,
          seq BIGSERIAL NOT NULL,
          kind TEXT NOT NULL,
          status TEXT NOT NULL
            CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
          input TEXT,
          progress TEXT,
          error TEXT,
          result TEXT,
          created_at BIGINT NOT NULL,
          started_at BIGINT,
          finished_at BIGINT,
          node TEXT
        );
        CREATE INDEX jobs_created ON jobs (created_at DESC, seq DESC);
        CREATE INDEX jobs_status ON jobs (status);
        CREATE TABLE tensor_files (
          id TEXT PRIMARY KEY,
          file TEXT NOT NULL UNIQUE,
          sha256 TEXT NOT NULL,
          bytes BIGINT NOT NULL,
          names TEXT NOT NULL,
          metadata TEXT NOT NULL,
          created_at BIGINT NOT NULL
        );
      `);
    },
  },
  {
    // Where a job's kernels ran (webgpu or cpu; src/gpu/backend.ts), set when it starts.
    name: "jobs_backend",
    up(db) {
      db.exec("ALTER TABLE jobs ADD COLUMN backend TEXT");
    },
  },
];

function ensureVersionTable(db: SqlDatabase): void {
  const time = db.dialect === "postgres" ? "BIGINT" : "INTEGER";
  db.exec(`CREATE TABLE IF NOT EXISTS schema_versions (
    module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at ${time} NOT NULL,
    PRIMARY KEY (module, version))`);
}

export function schemaVersion(db: SqlDatabase, module: string): number {
  ensureVersionTable(db);
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_versions WHERE module = ?").get(
    module,
  ) as { v: number | null } | undefined;
  return row?.v ?? 0;
}

/**
 * Databases written before migrations were versioned per module kept one global list in
 * schema_migrations (version, name). Migration names are unique across modules, so each applied
 * name is credited to the module that declares it, and the old table is dropped.
 */
export function adoptGlobalVersions(
  db: SqlDatabase,
  modules: readonly { name: string; migrations: readonly Migration[] }[],
): void {
  if (db.dialect !== "sqlite") return;
  const legacy = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
  ).get();
  if (!legacy) return;
  ensureVersionTable(db);
  const applied = db.prepare("SELECT name, applied_at FROM schema_migrations").all() as {
    name: string;
    applied_at: number;
  }[];
  const record = db.prepare(
    "INSERT OR IGNORE INTO schema_versions (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
  );
  db.exec("BEGIN IMMEDIATE");
  try {
    for (const { name, applied_at } of applied) {
      const owner = modules.find((m) => m.migrations.some((x) => x.name === name));
      if (!owner) {
        throw new MigrationError(
          `migration "${name}" recorded in this database belongs to no module of this build`,
        );
      }
      record.run(
        owner.name,
        owner.migrations.findIndex((x) => x.name === name) + 1,
        name,
        applied_at,
      );
    }
    db.exec("DROP TABLE schema_migrations");
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
}

/** Brings one module's schema up to date; returns the number of migrations applied. */
export function migrate(
  db: SqlDatabase,
  module: string,
  migrations: readonly Migration[],
): number {
  const current = schemaVersion(db, module);
  if (current > migrations.length) {
    throw new MigrationError(
      `database schema version ${current} of "${module}" is newer than this code ` +
        `(${migrations.length}); refusing to run an older build against it`,
    );
  }
  const record = db.prepare(
    "INSERT INTO schema_versions (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
  );
  for (let version = current + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1];
    db.exec(db.dialect === "postgres" ? "BEGIN" : "BEGIN IMMEDIATE");
    try {
      migration.up(db);
      record.run(module, version, migration.name, Date.now());
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw new MigrationError(
        `${module} migration ${version} (${migration.name}) failed: ${
          e instanceof Error ? e.message : e
        }`,
        { cause: e },
      );
    }
  }
  return migrations.length - current;
}
