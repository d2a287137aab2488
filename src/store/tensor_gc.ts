// Reclamation of tensor files that nothing owns. A tensor file is written and committed to
// `tensor_files` before the row that owns it (a run, a checkpoint, a simulator's parameters) is
// committed; a process killed in between leaves a committed file with no owner, e.g. the
// checkpoints of a training run that never finished, and a process killed between the blob and
// its row leaves a blob with no row.
//
// Two regimes:
// - The node's own folder with SQLite (the default): one process owns both, and at open no job of
//   it runs yet, so everything unowned is garbage and goes at once (reclaimUnownedTensors,
//   synchronous inside the store's open).
// - A folder or bucket that other nodes write to, or a database they share (PostgreSQL): another
//   node may have a blob uploaded but its row not yet committed, or a row committed just before its
//   owner's. Only what has been unowned for longer than a grace period is removed
//   (reclaimSharedTensors, after the store is open). The grace period must exceed the longest time between writing a
//   tensor and committing its owner (a training run keeps its checkpoints unowned until the run is
//   stored).
//
// Ownership is found by convention, with no list to keep in step: every column named `tensor` or
// ending in `_tensor`, in any table, holds ids of `tensor_files` rows. A module that stores a
// tensor id elsewhere must follow it, or its files are reclaimed here.
import type { SqlDatabase } from "./sql/database.ts";
import type { BlobStore } from "./blobs/blob_store.ts";
import { DirectoryBlobStore } from "./blobs/directory.ts";

export interface Reclaimed {
  /** `tensor_files` rows (and their files) no table referred to. */
  unowned: number;
  /** Blobs without a row: stored, then killed before the commit. */
  strays: number;
}

const OWNER_COLUMN = /^(tensor|.+_tensor)$/;

/** Every (table, column) that holds tensor ids, by the naming convention above. */
export function tensorOwnerColumns(db: SqlDatabase): { table: string; column: string }[] {
  const columns = db.dialect === "postgres" ? postgresColumns(db) : sqliteColumns(db);
  return columns.filter((c) => c.table !== "tensor_files" && OWNER_COLUMN.test(c.column));
}

function sqliteColumns(db: SqlDatabase): { table: string; column: string }[] {
  const tables = db.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
  ).all() as { name: string }[];
  return tables.flatMap(({ name }) =>
    (db.prepare("SELECT name FROM pragma_table_info(?)").all(name) as { name: string }[])
      .map((c) => ({ table: name, column: c.name }))
  );
}

/**
 * The base tables' columns of the schema the store works in (current_schema(): pg-boss keeps its
 * own schema, and views own nothing). Not yet exercised by a test here: it waits for the
 * PostgreSQL store.
 */
function postgresColumns(db: SqlDatabase): { table: string; column: string }[] {
  const rows = db.prepare(
    `SELECT c.table_name AS table_name, c.column_name AS column_name
       FROM information_schema.columns c
       JOIN information_schema.tables t
         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
  ).all() as { table_name: string; column_name: string }[];
  return rows.map((r) => ({ table: r.table_name, column: r.column_name }));
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Deletes the `tensor_files` rows that no owner column names (and, when `createdBefore` is given,
 * that were created before it, in ms since the epoch) and returns their blob keys. One statement
 * with RETURNING: what it returns is exactly what it deleted, even with writers running beside it.
 */
function deleteUnownedRows(db: SqlDatabase, createdBefore: number | null): string[] {
  // CAST: an owner column of another type (a PostgreSQL uuid) still compares with the text id.
  const owned = tensorOwnerColumns(db).map(({ table, column }) =>
    `SELECT CAST(${quote(column)} AS TEXT) FROM ${quote(table)} WHERE ${quote(column)} IS NOT NULL`
  );
  const conditions = [
    ...(owned.length === 0 ? [] : [`id NOT IN (${owned.join(" UNION ")})`]),
    ...(createdBefore === null ? [] : ["created_at < ?"]),
  ];
  const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
  const statement = db.prepare(`DELETE FROM tensor_files ${where} RETURNING file`);
  const rows = (createdBefore === null ? statement.all() : statement.all(createdBefore)) as {
    file: string;
  }[];
  return rows.map((r) => r.file);
}

function knownFiles(db: SqlDatabase): Set<string> {
  return new Set(
    (db.prepare("SELECT file FROM tensor_files").all() as { file: string }[]).map((r) => r.file),
  );
}

const NOTHING: Reclaimed = { unowned: 0, strays: 0 };

/** Whether clean-up must wait out a grace period: other nodes may write the blobs or the rows. */
export function needsGracePeriod(db: SqlDatabase, blobs: BlobStore): boolean {
  return blobs.shared || db.dialect !== "sqlite";
}

/**
 * The single-process clean-up inside the store's synchronous open, for the node's own folder
 * (`blobs` may be that folder's path) with SQLite. Where needsGracePeriod holds it does nothing:
 * reclaimSharedTensors does that work. Rows go first: killed halfway, the next open finds at worst
 * stray files, which it removes too.
 */
export function reclaimUnownedTensors(db: SqlDatabase, blobs: BlobStore | string): Reclaimed {
  if (typeof blobs === "string") blobs = new DirectoryBlobStore(blobs, false);
  if (!(blobs instanceof DirectoryBlobStore) || needsGracePeriod(db, blobs)) return { ...NOTHING };
  const files = deleteUnownedRows(db, null);
  for (const file of files) blobs.deleteSync(file);
  // What a crash between write and rename left; not counted, as it never was a tensor file.
  blobs.removeAbandonedUploadsSync(Infinity);
  const known = knownFiles(db);
  let strays = 0;
  for (const { key } of blobs.listSync()) {
    if (!known.has(key)) {
      blobs.deleteSync(key);
      strays++;
    }
  }
  return { unowned: files.length, strays };
}

export interface ReclaimOptions {
  /** Only rows and blobs unowned for longer than this are removed. */
  graceMs: number;
  /** The clock, in ms since the epoch (tests). */
  now?: number;
}

/**
 * Clean-up that is safe while other nodes write to the same blob store or database: rows created,
 * blobs last modified and temporary files last touched more than `graceMs` ago, and unowned, go.
 * The set of known rows is read after the listing, so a row committed while listing is seen.
 */
export async function reclaimSharedTensors(
  db: SqlDatabase,
  blobs: BlobStore,
  options: ReclaimOptions,
): Promise<Reclaimed> {
  // A job still running may own tensors it has not yet attached to a row (a training run's
  // checkpoints until the run is stored): nothing written since the oldest running job started
  // is touched, however long ago that was.
  const running = db.prepare(
    "SELECT MIN(started_at) AS since FROM jobs WHERE status = 'running' AND started_at IS NOT NULL",
  ).get() as { since: number | null } | undefined;
  const graceCutoff = (options.now ?? Date.now()) - options.graceMs;
  const cutoff = running?.since != null ? Math.min(graceCutoff, running.since) : graceCutoff;
  const files = deleteUnownedRows(db, cutoff);
  for (const file of files) await blobs.delete(file);
  await blobs.removeAbandonedUploads(cutoff);
  const old: string[] = [];
  for await (const { key, lastModified } of blobs.list()) {
    if (lastModified < cutoff) old.push(key);
  }
  const known = knownFiles(db);
  let strays = 0;
  for (const key of old) {
    if (!known.has(key)) {
      await blobs.delete(key);
      strays++;
    }
  }
  return { unowned: files.length, strays };
}

/**
 * What a node runs once its store is open: where other nodes may write (needsGracePeriod), the
 * clean-up that waits out `graceSeconds`; otherwise nothing, as the open itself reclaimed.
 */
export function reclaimAfterOpen(
  db: SqlDatabase,
  blobs: BlobStore,
  graceSeconds: number,
): Promise<Reclaimed> {
  if (!needsGracePeriod(db, blobs)) return Promise.resolve({ ...NOTHING });
  return reclaimSharedTensors(db, blobs, { graceMs: graceSeconds * 1000 });
}
