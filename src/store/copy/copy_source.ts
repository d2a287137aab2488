// The single-node store that store:copy reads: its SQLite file opened read-only (the copy never
// writes to it), checked to be at this build's schema, and its tables listed in the order the
// copy writes them: the core tables, then each store module's in src/store_modules.ts order (the
// order that respects their foreign keys), each module's tables in the order its migrations
// create them.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { CORE_MIGRATIONS, CORE_MODULE, migrate, type Migration } from "../migrations.ts";
import { SqliteDatabase } from "../sql/sqlite_database.ts";
import type { StoreModule } from "../store.ts";
import { CopyError } from "./copy_error.ts";

export interface SourceTable {
  name: string;
  /** The store module whose migrations create it. */
  module: string;
  /** Its columns, as the source has them. */
  columns: string[];
}

export interface CopySource {
  db: SqliteDatabase;
  /** simfluence.db's path. */
  file: string;
  tables: SourceTable[];
}

interface ModuleSchema {
  name: string;
  migrations: readonly Migration[];
}

const tableNames = (db: SqliteDatabase): string[] =>
  (db.prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
     AND name <> 'schema_versions' ORDER BY rowid`,
  ).all() as { name: string }[]).map((r) => r.name);

/**
 * Which module creates which table, in creation order: every module's migrations applied, one
 * module after the other, to an empty in-memory database.
 */
export function tablesByModule(
  modules: readonly ModuleSchema[],
): { table: string; module: string }[] {
  const scratch = new SqliteDatabase(new DatabaseSync(":memory:"));
  try {
    const owned: { table: string; module: string }[] = [];
    for (const m of modules) {
      migrate(scratch, m.name, m.migrations);
      for (const table of tableNames(scratch)) {
        if (!owned.some((o) => o.table === table)) owned.push({ table, module: m.name });
      }
    }
    return owned;
  } finally {
    scratch.close();
  }
}

export function openCopySource(
  dataDir: string,
  modules: readonly StoreModule<unknown>[],
): CopySource {
  const file = join(dataDir, "simfluence.db");
  if (!existsSync(file)) {
    throw new CopyError(`--from: no single-node store in ${dataDir} (${file} does not exist)`);
  }
  let db: SqliteDatabase;
  try {
    db = new SqliteDatabase(new DatabaseSync(file, { readOnly: true }));
    db.exec("PRAGMA busy_timeout = 5000");
  } catch (e) {
    throw new CopyError(`--from: cannot open ${file}: ${(e as Error).message}`);
  }
  try {
    const all: ModuleSchema[] = [{ name: CORE_MODULE, migrations: CORE_MIGRATIONS }, ...modules];
    checkSchema(db, all, dataDir);
    const order = tablesByModule(all);
    const present = tableNames(db);
    const stray = present.filter((t) => !order.some((o) => o.table === t));
    if (stray.length > 0) {
      throw new CopyError(
        `--from: ${file} has tables no store module of this build creates: ${stray.join(", ")}`,
      );
    }
    const tables = order.filter((o) => present.includes(o.table)).map(({ table, module }) => ({
      name: table,
      module,
      columns: (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[])
        .map((c) => c.name),
    }));
    return { db, file, tables };
  } catch (e) {
    db.close();
    throw e;
  }
}

/** The source must be at exactly this build's schema, so that its columns are the target's. */
function checkSchema(db: SqliteDatabase, modules: readonly ModuleSchema[], dataDir: string): void {
  const versioned = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'",
  ).get();
  const versions = new Map<string, number>();
  if (versioned) {
    for (
      const row of db.prepare(
        "SELECT module, MAX(version) AS v FROM schema_versions GROUP BY module",
      )
        .all() as { module: string; v: number }[]
    ) versions.set(row.module, row.v);
  }
  const upgrade = `start this build once on it (SIMFLUENCE_DATA_DIR=${dataDir} deno task start), ` +
    "stop it, then copy";
  for (const m of modules) {
    const have = versions.get(m.name) ?? 0;
    if (have > m.migrations.length) {
      throw new CopyError(
        `--from: the store's "${m.name}" schema (version ${have}) is newer than this build's ` +
          `(${m.migrations.length}); copy it with the build that wrote it`,
      );
    }
    if (have < m.migrations.length) {
      throw new CopyError(
        `--from: the store's "${m.name}" schema is at version ${have} of ${m.migrations.length}: ` +
          upgrade,
      );
    }
  }
}
