// Start-up reclamation of tensor files that nothing owns. A tensor file is written and committed to
// `tensor_files` before the row that owns it (a run, a checkpoint, a simulator's parameters) is
// committed; a process killed in between leaves a committed file with no owner, e.g. the
// checkpoints of a training run that never finished. At open no job of this process runs yet, so
// every such file is garbage.
//
// Ownership is found by convention, with no list to keep in step: every column named `tensor` or
// ending in `_tensor`, in any table, holds ids of `tensor_files` rows. A module that stores a
// tensor id elsewhere must follow it, or its files are reclaimed here.
import { join } from "node:path";
import type { SqlDatabase } from "./sql/database.ts";

export interface Reclaimed {
  /** `tensor_files` rows (and their files) no table referred to. */
  unowned: number;
  /** Files in the tensor directory without a row: renamed, then killed before the commit. */
  strays: number;
}

const OWNER_COLUMN = /^(tensor|.+_tensor)$/;

/** Every (table, column) that holds tensor ids, by the naming convention above. */
export function tensorOwnerColumns(db: SqlDatabase): { table: string; column: string }[] {
  const tables = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  ).all() as { name: string }[];
  const owners: { table: string; column: string }[] = [];
  for (const { name } of tables) {
    if (name === "tensor_files") continue;
    const columns = db.prepare("SELECT name FROM pragma_table_info(?)").all(name) as {
      name: string;
    }[];
    for (const c of columns) {
      if (OWNER_COLUMN.test(c.name)) owners.push({ table: name, column: c.name });
    }
  }
  return owners;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Deletes unowned rows in one transaction, then their files, then stray files. Rows go first:
 * killed halfway, the next start finds at worst stray files, which it removes too.
 */
export function reclaimUnownedTensors(db: SqlDatabase, tensorDir: string): Reclaimed {
  const owned = tensorOwnerColumns(db).map(({ table, column }) =>
    `SELECT ${quote(column)} FROM ${quote(table)} WHERE ${quote(column)} IS NOT NULL`
  );
  const unownedWhere = owned.length === 0 ? "" : `WHERE id NOT IN (${owned.join(" UNION ")})`;
  db.exec("BEGIN IMMEDIATE");
  let files: string[];
  try {
    files = (db.prepare(`SELECT file FROM tensor_files ${unownedWhere}`).all() as {
      file: string;
    }[]).map((r) => r.file);
    db.exec(`DELETE FROM tensor_files ${unownedWhere}`);
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw e;
  }
  for (const file of files) removeIfPresent(join(tensorDir, file));

  const known = new Set(
    (db.prepare("SELECT file FROM tensor_files").all() as { file: string }[]).map((r) => r.file),
  );
  let strays = 0;
  for (const entry of Deno.readDirSync(tensorDir)) {
    if (entry.isFile && !known.has(entry.name)) {
      removeIfPresent(join(tensorDir, entry.name));
      strays++;
    }
  }
  return { unowned: files.length, strays };
}

function removeIfPresent(path: string): void {
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
