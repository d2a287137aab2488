// store:copy: moves a single-node store (SQLite file and tensor folder) into a cluster's
// PostgreSQL and shared blob store. Table by table in the modules' order (tensor files last), in
// batches whose rows and progress commit together (copy_progress.ts), every tensor file checked
// against its SHA-256 on the way (copy_tensors.ts). Then every table is compared with the source, and the work the
// single node left unfinished is marked interrupted, as the single node itself would at its next
// start; only then is the copy marked finished. It refuses a target that holds data unless that
// data is its own unfinished copy of the same source, which it resumes.
import { realpathSync } from "node:fs";
import { createHash } from "node:crypto";
import type { BlobStore } from "../blobs/blob_store.ts";
import { PostgresStore } from "../postgres.ts";
import { PostgresDatabase } from "../sql/postgres_database.ts";
import type { SqlDatabase, SqlRow, SqlValue } from "../sql/database.ts";
import type { StoreModule } from "../store.ts";
import { INTERRUPTED_ERROR } from "../sqlite.ts";
import { STORE_MODULES } from "../../store_modules.ts";
import { NodesTable } from "../../cluster/nodes_store.ts";
import { CopyError, CopyInterruptedError } from "./copy_error.ts";
import { CopyProgress } from "./copy_progress.ts";
import { type CopySource, openCopySource, type SourceTable } from "./copy_source.ts";
import { copyTensorFile, type TensorFileRow } from "./copy_tensors.ts";

export interface StoreCopyOptions {
  /** The single node's data directory (simfluence.db and, by default, tensors/). */
  from: string;
  /** The cluster's PostgreSQL URL. */
  to: string;
  /** Where the source's tensor files are (default: <from>/tensors). */
  sourceBlobs: BlobStore;
  /** The cluster's blob store (SIMFLUENCE_BLOB_URL of its nodes). */
  targetBlobs: BlobStore;
  /** Rows per committed batch (default 500). */
  batchRows?: number;
  /** Tensor files per committed batch (default 16). */
  tensorBatch?: number;
  /** Aborting stops the copy between two steps; what was committed stays, and a rerun resumes. */
  signal?: AbortSignal;
  onProgress?: (event: CopyEvent) => void;
  /** Default: the service's modules. */
  modules?: readonly StoreModule<unknown>[];
}

export type CopyEvent =
  | { kind: "start"; resumed: boolean; tables: { name: string; rows: number }[] }
  | { kind: "table"; table: string; copied: number; total: number }
  | { kind: "verified"; table: string; rows: number }
  | { kind: "finished"; interruptedJobs: number };

export interface CopySummary {
  /** The target held this copy's unfinished work, which this run completed. */
  resumed: boolean;
  /** Nothing to do: this source had already been copied there in full. */
  alreadyComplete: boolean;
  tables: { name: string; rows: number }[];
  tensorFiles: { written: number; alreadyThere: number; bytes: number };
  /** Jobs found queued or running in the source, marked failed ("interrupted") in the target. */
  interruptedJobs: number;
}

/** Any two fixed numbers other locks of the service do not use (see postgres.ts). */
const COPY_LOCK = 0x51f1_00c0;
/** PostgreSQL takes at most 65,535 parameters in one statement; stay far below. */
const MAX_PARAMETERS = 30_000;

export async function copyStore(options: StoreCopyOptions): Promise<CopySummary> {
  const modules = options.modules ?? STORE_MODULES;
  const source = openCopySource(options.from, modules);
  // The modules keep nothing in the node's own folder on PostgreSQL; the store only wants one.
  const scratch = await Deno.makeTempDir({ prefix: "simfluence-store-copy-" });
  let target: PostgresStore | null = null;
  try {
    target = await openTarget(options.to, scratch, modules, options.targetBlobs);
    return await copyInto(source, target, modules, options);
  } finally {
    target?.close();
    source.db.close();
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function openTarget(
  url: string,
  dataDir: string,
  modules: readonly StoreModule<unknown>[],
  blobs: BlobStore,
): Promise<PostgresStore> {
  try {
    await checkOurDatabase(url);
    return await PostgresStore.open({
      url,
      dataDir,
      modules,
      blobs,
      applicationName: "simfluence store:copy",
    });
  } catch (e) {
    if (e instanceof CopyError) throw e;
    throw new CopyError(`--to: cannot open the PostgreSQL store: ${(e as Error).message}`);
  }
}

/**
 * Opening the store creates its tables: never in a database that holds someone else's. Empty, or
 * a Simfluence store (schema_versions), passes; the emptiness of the store's own tables is checked
 * once they exist.
 */
async function checkOurDatabase(url: string): Promise<void> {
  const db = await PostgresDatabase.connect({ url, applicationName: "simfluence store:copy" });
  try {
    const tables = (db.prepare(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
       ORDER BY table_name`,
    ).all() as { table_name: string }[]).map((t) => t.table_name);
    if (tables.length > 0 && !tables.includes("schema_versions")) {
      throw new CopyError(
        `--to: the database holds tables that are not a Simfluence store (${
          tables.slice(0, 5).join(", ")
        }${tables.length > 5 ? ", …" : ""}); copy into an empty database`,
      );
    }
  } finally {
    db.close();
  }
}

async function copyInto(
  source: CopySource,
  target: PostgresStore,
  modules: readonly StoreModule<unknown>[],
  options: StoreCopyOptions,
): Promise<CopySummary> {
  const db = target.db;
  const locked = db.prepare(`SELECT pg_try_advisory_lock(${COPY_LOCK}) AS ok`).get() as {
    ok: boolean;
  };
  if (!locked.ok) throw new CopyError("--to: another store:copy is writing to this database");

  checkNoLiveNodes(db);
  const progress = new CopyProgress(db);
  progress.ensureTables();
  const sourcePath = realpathSync(options.from);
  const blobsAt = options.targetBlobs.describe().location;
  const counts = source.tables.map((t) => ({ name: t.name, rows: countRows(source.db, t.name) }));
  const summary: CopySummary = {
    resumed: false,
    alreadyComplete: false,
    tables: counts,
    tensorFiles: { written: 0, alreadyThere: 0, bytes: 0 },
    interruptedJobs: 0,
  };

  const marker = progress.marker();
  if (marker) {
    if (marker.source !== sourcePath) {
      throw new CopyError(
        `--to: this database holds a copy of another store (${marker.source}); ` +
          "copy into an empty database",
      );
    }
    if (marker.blobs !== blobsAt) {
      throw new CopyError(
        `--blobs: this copy began with its tensors going to ${marker.blobs}; ` +
          "resume it with that same target",
      );
    }
    if (marker.finishedAt !== null) return { ...summary, alreadyComplete: true };
    summary.resumed = true;
  } else {
    checkTargetEmpty(db, source.tables);
  }
  checkColumns(db, source.tables);
  if (!marker) progress.begin(sourcePath, blobsAt);
  options.onProgress?.({ kind: "start", resumed: summary.resumed, tables: counts });

  // The batches are synchronous calls: give the event loop a turn now and then, so that a Ctrl-C
  // (a signal listener) is heard during a long table, not only when it ends.
  let lastTurn = Date.now();
  const stop = async () => {
    if (Date.now() - lastTurn > 100) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      lastTurn = Date.now();
    }
    if (options.signal?.aborted) throw new CopyInterruptedError();
  };
  for (const table of copyOrder(source.tables)) {
    const total = counts.find((c) => c.name === table.name)!.rows;
    if (progress.table(table.name).done) continue;
    if (table.name === "tensor_files") {
      await copyTensorTable(source, target, table, progress, options, summary, total, stop);
    } else {
      await copyTable(source.db, target, table, progress, options, total, stop);
    }
  }

  for (const table of source.tables) {
    const rows = await verifyTable(source.db, db, table, stop);
    options.onProgress?.({ kind: "verified", table: table.name, rows });
  }

  // What the single node would do at its next start, done once, with the finish mark.
  target.transaction(() => {
    summary.interruptedJobs = target.jobs.failUnfinished(INTERRUPTED_ERROR);
    for (const module of modules) module.recover?.(target.get(module));
    progress.finish();
  });
  options.onProgress?.({ kind: "finished", interruptedJobs: summary.interruptedJobs });
  return summary;
}

/**
 * The modules' order, except tensor_files last: no foreign key points at it, and copied after its
 * owners, a copied tensor row always has its owner already there, so a node's clean-up of unowned
 * tensors (tensor_gc.ts), should one start too early, never takes a copied row for garbage.
 */
function copyOrder(tables: readonly SourceTable[]): SourceTable[] {
  return [
    ...tables.filter((t) => t.name !== "tensor_files"),
    ...tables.filter((t) => t.name === "tensor_files"),
  ];
}

/** Nodes heard from this recently are running (nodes heartbeat every 5 s at most). */
const LIVE_NODE_MS = 60_000;

/**
 * A node running on the target would serve half-copied data, and its start-up clean-up could take
 * tensors left in place (--blobs naming the source's folder) for garbage: refuse while any is.
 */
function checkNoLiveNodes(db: SqlDatabase): void {
  const hasNodes = db.prepare(
    `SELECT 1 AS yes FROM information_schema.tables
     WHERE table_schema = current_schema() AND table_name = 'nodes'`,
  ).get();
  if (!hasNodes) return;
  const live = new NodesTable(db).list(LIVE_NODE_MS).filter((n) => n.alive).map((n) => n.id);
  if (live.length > 0) {
    throw new CopyError(
      `--to: nodes are running on this database (${live.join(", ")}); stop them until the ` +
        "copy has finished",
    );
  }
}

const countRows = (db: SqlDatabase, table: string): number =>
  Number((db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n);

function checkTargetEmpty(db: SqlDatabase, tables: readonly SourceTable[]): void {
  const full = tables.map((t) => ({ name: t.name, rows: countRows(db, t.name) }))
    .filter((t) => t.rows > 0);
  if (full.length > 0) {
    throw new CopyError(
      `--to: the target database is not empty (${
        full.map((t) => `${t.name}: ${t.rows} rows`).join(", ")
      }); store:copy copies into an empty database only`,
    );
  }
}

/** Every source column exists in the target; the target's others fill themselves. */
function checkColumns(db: SqlDatabase, tables: readonly SourceTable[]): void {
  for (const table of tables) {
    const columns = db.prepare(
      `SELECT column_name, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = current_schema() AND table_name = ?`,
    ).all(table.name) as { column_name: string; is_nullable: string; column_default: unknown }[];
    const missing = table.columns.filter((c) => !columns.some((x) => x.column_name === c));
    const unfilled = columns.filter((x) =>
      !table.columns.includes(x.column_name) && x.is_nullable === "NO" && x.column_default === null
    );
    if (missing.length > 0 || unfilled.length > 0) {
      throw new CopyError(
        `--to: table ${table.name} differs from the source's (missing in the target: ${
          missing.join(", ") || "none"
        }; required in the target only: ${
          unfilled.map((x) => x.column_name).join(", ") || "none"
        })`,
      );
    }
  }
}

function sourceBatch(
  db: SqlDatabase,
  table: SourceTable,
  after: number,
  limit: number,
): (SqlRow & { copy_rowid: number })[] {
  const columns = table.columns.map((c) => `"${c}"`).join(", ");
  return db.prepare(
    `SELECT rowid AS copy_rowid, ${columns} FROM "${table.name}" WHERE rowid > ?
     ORDER BY rowid LIMIT ?`,
  ).all(after, limit) as (SqlRow & { copy_rowid: number })[];
}

function insertRows(db: SqlDatabase, table: SourceTable, rows: readonly SqlRow[]): void {
  if (rows.length === 0) return;
  const columns = table.columns.map((c) => `"${c}"`).join(", ");
  const tuple = `(${table.columns.map(() => "?").join(", ")})`;
  const values: SqlValue[] = [];
  for (const row of rows) for (const c of table.columns) values.push(row[c] as SqlValue);
  db.prepare(
    `INSERT INTO "${table.name}" (${columns}) VALUES ${rows.map(() => tuple).join(", ")}`,
  ).run(...values);
}

async function copyTable(
  sourceDb: SqlDatabase,
  target: PostgresStore,
  table: SourceTable,
  progress: CopyProgress,
  options: StoreCopyOptions,
  total: number,
  stop: () => Promise<void>,
): Promise<void> {
  const limit = Math.max(
    1,
    Math.min(options.batchRows ?? 500, Math.floor(MAX_PARAMETERS / table.columns.length)),
  );
  let { lastRowid, rows: copied } = progress.table(table.name);
  for (;;) {
    await stop();
    const rows = sourceBatch(sourceDb, table, lastRowid, limit);
    const last = rows.length > 0 ? Number(rows[rows.length - 1].copy_rowid) : lastRowid;
    const done = rows.length < limit;
    target.transaction(() => {
      insertRows(target.db, table, rows);
      progress.advance(table.name, last, rows.length, done);
    });
    lastRowid = last;
    copied += rows.length;
    options.onProgress?.({ kind: "table", table: table.name, copied, total });
    if (done) return;
  }
}

async function copyTensorTable(
  source: CopySource,
  target: PostgresStore,
  table: SourceTable,
  progress: CopyProgress,
  options: StoreCopyOptions,
  summary: CopySummary,
  total: number,
  stop: () => Promise<void>,
): Promise<void> {
  const limit = options.tensorBatch ?? 16;
  let { lastRowid, rows: copied } = progress.table(table.name);
  for (;;) {
    await stop();
    const rows = sourceBatch(source.db, table, lastRowid, limit);
    // Blob first, row after, as the tensor store itself writes them.
    for (const row of rows) {
      await stop();
      const outcome = await copyTensorFile(
        row as unknown as TensorFileRow,
        options.sourceBlobs,
        options.targetBlobs,
      );
      if (outcome.written) summary.tensorFiles.written++;
      else summary.tensorFiles.alreadyThere++;
      summary.tensorFiles.bytes += outcome.bytes;
    }
    const last = rows.length > 0 ? Number(rows[rows.length - 1].copy_rowid) : lastRowid;
    const done = rows.length < limit;
    target.transaction(() => {
      insertRows(target.db, table, rows);
      progress.advance(table.name, last, rows.length, done);
    });
    lastRowid = last;
    copied += rows.length;
    options.onProgress?.({ kind: "table", table: table.name, copied, total });
    if (done) return;
  }
}

// ---- verification ----------------------------------------------------------------------------
// Each side's rows hashed one by one and the hashes summed (mod 2^256): equal sums mean equal
// multisets of rows, whatever order each database returns them in.

const MOD = 1n << 256n;

function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  return value;
}

function rowHash(row: SqlRow, columns: readonly string[]): bigint {
  const text = JSON.stringify(columns.map((c) => canonical(row[c])));
  return BigInt("0x" + createHash("sha256").update(text).digest("hex"));
}

async function verifyTable(
  sourceDb: SqlDatabase,
  targetDb: SqlDatabase,
  table: SourceTable,
  stop: () => Promise<void>,
): Promise<number> {
  const page = Math.max(1, Math.floor(MAX_PARAMETERS / table.columns.length));
  let sourceSum = 0n;
  let sourceRows = 0;
  for (let after = 0;;) {
    await stop();
    const rows = sourceBatch(sourceDb, table, after, page);
    for (const row of rows) sourceSum = (sourceSum + rowHash(row, table.columns)) % MOD;
    sourceRows += rows.length;
    if (rows.length < page) break;
    after = Number(rows[rows.length - 1].copy_rowid);
  }
  // ctid orders the target's rows without assuming a key; nothing writes them meanwhile.
  let targetSum = 0n;
  let targetRows = 0;
  const columns = table.columns.map((c) => `"${c}"`).join(", ");
  const next = targetDb.prepare(
    `SELECT ctid::text AS copy_ctid, ${columns} FROM "${table.name}" WHERE ctid > ?::tid
     ORDER BY ctid LIMIT ?`,
  );
  for (let after = "(0,0)";;) {
    await stop();
    const rows = next.all(after, page);
    for (const row of rows) targetSum = (targetSum + rowHash(row, table.columns)) % MOD;
    targetRows += rows.length;
    if (rows.length < page) break;
    after = String(rows[rows.length - 1].copy_ctid);
  }
  if (sourceRows !== targetRows || sourceSum !== targetSum) {
    throw new CopyError(
      `table ${table.name} in the target differs from the source (${targetRows} rows, source ` +
        `${sourceRows}): the source changed after the copy began? Copy again into an empty database`,
    );
  }
  return sourceRows;
}
