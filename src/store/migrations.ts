// Schema migrations: an ordered list, applied once each, every one in its own transaction, with
// the applied version recorded in schema_migrations. Append new migrations; never edit old ones.
import type { DatabaseSync } from "node:sqlite";
import { RUN_CHECKPOINT_MIGRATIONS, RUN_MIGRATIONS } from "../runs/run_store.ts";
import { SIMULATOR_MIGRATIONS } from "../simfluence/simulator_store.ts";
import { DATASET_MIGRATIONS } from "../datasets/dataset_store.ts";
import { MODEL_MIGRATIONS } from "../models/model_store.ts";

export interface Migration {
  name: string;
  up(db: DatabaseSync): void;
}

export class MigrationError extends Error {
  override name = "MigrationError";
}

export const MIGRATIONS: readonly Migration[] = [
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
  ...RUN_MIGRATIONS,
  ...SIMULATOR_MIGRATIONS,
  ...DATASET_MIGRATIONS,
  ...MODEL_MIGRATIONS,
  ...RUN_CHECKPOINT_MIGRATIONS,
];

export function schemaVersion(db: DatabaseSync): number {
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_migrations").get() as
    | { v: number | null }
    | undefined;
  return row?.v ?? 0;
}

/** Brings the schema up to date; returns the number of migrations applied. */
export function migrate(db: DatabaseSync, migrations: readonly Migration[] = MIGRATIONS): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new MigrationError(
      `database schema version ${current} is newer than this code (${migrations.length}); ` +
        "refusing to run an older build against it",
    );
  }
  const record = db.prepare(
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
  );
  for (let version = current + 1; version <= migrations.length; version++) {
    const migration = migrations[version - 1];
    db.exec("BEGIN IMMEDIATE");
    try {
      migration.up(db);
      record.run(version, migration.name, Date.now());
      db.exec("COMMIT");
    } catch (e) {
      db.exec("ROLLBACK");
      throw new MigrationError(
        `migration ${version} (${migration.name}) failed: ${e instanceof Error ? e.message : e}`,
        { cause: e },
      );
    }
  }
  return migrations.length - current;
}
