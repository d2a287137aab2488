// store:copy on a throwaway PostgreSQL cluster: a single-node store with a record of every kind
// (studies, runs and checkpoints, simulators, datasets, models, score sets, gradients,
// evaluations, curricula, jobs, tensors) copied into PostgreSQL and a shared blob folder, then
// opened there and compared with the SQLite store, record by record and row by row; a copy
// interrupted twice (Ctrl-C, a failing blob store) and resumed ends equal, with no row twice; a
// non-empty target, another copy's target and a corrupt tensor are refused; the command line
// gives usage messages and exit codes, never a stack trace.
import assert from "node:assert/strict";
import { join } from "node:path";
import { CURRICULA } from "../../src/curricula/store.ts";
import { DATASETS } from "../../src/datasets/dataset_store.ts";
import { EVALUATIONS } from "../../src/evaluations/store.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import { MODELS } from "../../src/models/model_store.ts";
import { GRADIENTS } from "../../src/projection/store.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";
import type { BlobStore } from "../../src/store/blobs/blob_store.ts";
import { DirectoryBlobStore } from "../../src/store/blobs/directory.ts";
import { localBlobStore } from "../../src/store/blobs/select.ts";
import { S3BlobStore } from "../../src/store/blobs/s3.ts";
import { CopyError, CopyInterruptedError } from "../../src/store/copy/copy_error.ts";
import { main } from "../../src/store/copy/main.ts";
import { copyStore, type StoreCopyOptions } from "../../src/store/copy/store_copy.ts";
import { PostgresStore } from "../../src/store/postgres.ts";
import { PostgresDatabase } from "../../src/store/sql/postgres_database.ts";
import type { SqlDatabase, SqlRow } from "../../src/store/sql/database.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import { reclaimSharedTensors } from "../../src/store/tensor_gc.ts";
import { migrate } from "../../src/store/migrations.ts";
import { NODES, NodesTable } from "../../src/cluster/nodes_store.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";
import { spreadParams, tinyConfig } from "../helpers/model_fixtures.ts";
import { freshDatabase, postgresAvailable } from "../helpers/postgres.ts";
import {
  startTestS3Server,
  TEST_S3_BUCKET,
  TEST_S3_CREDENTIALS,
  TEST_S3_REGION,
} from "../helpers/s3_server.ts";

const ignore = !postgresAvailable;

interface Source {
  dir: string;
  ids: Record<string, string>;
}

/** A single-node store with records of every kind, some left unfinished; closed again. */
async function makeSource(): Promise<Source> {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-copy-src-" });
  const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
  const ids: Record<string, string> = {};
  try {
    const checkpoint = await store.tensors.put({
      w: { shape: [2], data: Float32Array.from([1.5, -2]) },
    });
    const run = (name: string, study: string, seed: number) => ({
      study,
      name,
      testExamples: ["q0", "q1"],
      steps: [{ batch: ["e0", "e1"] }, { batch: ["e1", "e2"], lr: 0.5 }],
      losses: Float32Array.from([1, 2, 0.9 + seed, 1.8, 0.7, 1.5 + seed / 7]),
    });
    const runs = store.get(RUNS);
    ids.run1 =
      (await runs.create(run("r1", "s1", 0.25), "json", [{ step: 1, tensor: checkpoint.id }]))
        .id;
    ids.run2 = (await runs.create(run("r2", "s1", 0.5), "csv")).id;
    ids.run3 = (await runs.create(run("r1", "s2", 1), "json")).id;

    const simulators = store.get(SIMULATORS);
    ids.simulator = simulators.create({
      study: "s1",
      kind: "linear",
      trainRuns: [ids.run1, ids.run2],
      validationRuns: [],
      lambda: "auto",
    }).id;
    await simulators.markReady(ids.simulator, {
      params: {
        kind: "linear",
        n: 3,
        m: 2,
        A: Float32Array.from([0.1, -0.2, 0.3, 0.05, 0, 1e-7]),
        B: Float32Array.from([0.01, 0.02, -0.03, 0, 0.5, 0.25]),
        unseen: [],
        meanLoss: Float32Array.from([1.5, 1.25]),
        lambdaFactor: 0.1 + 0.2, // not exactly representable in decimal: a float's round trip
        scoreScale: null,
      },
      trainIds: ["e0", "e1", "e2"],
      initialLoss: Float32Array.from([2, 1.75]),
      fit: { solver: "cpu-cg" },
    }, ["q0", "q1"]);
    ids.fitting = simulators.create({
      study: "s2",
      kind: "additive",
      trainRuns: [ids.run3],
      validationRuns: [],
      lambda: 0.01,
    }).id;

    ids.dataset = store.get(DATASETS).create("docs", [
      { id: "e0", text: "héllo wörld ✓" },
      { id: "e1", text: "second" },
      { id: "e2", text: "third, with 'quotes' and \"more\"" },
    ]).id;
    ids.qa = store.get(DATASETS).create("qa", [{ id: "p0", prompt: "2+2=", completion: "4" }]).id;

    ids.model = (await store.get(MODELS).create({
      name: "tiny",
      params: spreadParams(tinyConfig(), 3),
      tokenizer: { kind: "byte", json: null },
      source: "init",
      seed: 3,
    })).id;

    const influence = store.get(INFLUENCE);
    ids.scores = influence.create("scores", { model: ids.model, spec: { queries: ["q0"] } }).id;
    const scoreFile = await store.tensors.put({
      scores: { shape: [1, 3], data: Float32Array.from([0.5, -1, 2]) },
    });
    assert.ok(await influence.markReady("scores", ids.scores, { n: 3 }, scoreFile.id));
    ids.factors = influence.create("factors", { model: ids.model, spec: { damping: 0.1 } }).id;

    const gradients = store.get(GRADIENTS);
    ids.gradients = gradients.create({ model: ids.model, spec: { k: 4 } }).id;
    const gradientFile = await store.tensors.put({
      g: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
    });
    assert.ok(await gradients.markReady(ids.gradients, { k: 4 }, gradientFile.id));

    const evaluations = store.get(EVALUATIONS);
    ids.evaluation = evaluations.create({
      kind: "lds",
      study: "s1",
      method: { name: "simfluence", simulator: ids.simulator },
      request: { seed: 1 },
    }).id;
    assert.ok(evaluations.markReady(ids.evaluation, { rho: 0.75 }));
    ids.evaluationRunning = evaluations.create({
      kind: "lds",
      study: "s2",
      method: { name: "tracin" },
      request: {},
    }).id;

    const curricula = store.get(CURRICULA);
    ids.curriculum = curricula.create({ study: "s1", method: "search", request: { k: 2 } }).id;

    store.jobs.create({ id: "job-done", kind: "simulator-fit", input: { study: "s1" } });
    store.jobs.update("job-done", {
      status: "succeeded",
      result: { simulator: ids.simulator },
      startedAt: new Date(Date.now() - 5000).toISOString(),
      finishedAt: new Date().toISOString(),
    });
    store.jobs.create({ id: "job-running", kind: "training-runs", input: { study: "s2" } });
    store.jobs.update("job-running", { status: "running", startedAt: new Date().toISOString() });
    store.jobs.create({ id: "job-queued", kind: "simulator-fit", input: null });
  } finally {
    store.close();
  }
  return { dir, ids };
}

/** Every row of a table, its columns in the source's order, sorted: a dialect-neutral view. */
function rowsOf(db: SqlDatabase, table: string, columns: readonly string[]): unknown[][] {
  const rows = db.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(", ")} FROM "${table}"`)
    .all() as SqlRow[];
  return rows.map((r) => columns.map((c) => r[c] ?? null));
}

const sorted = (rows: unknown[][]) =>
  rows.sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);

/** A record marked interrupted at open or at the copy's end: when is "now" on either side. */
function stampless(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stampless);
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return value;
  const record = value as Record<string, unknown>;
  const interrupted = record.error === "interrupted";
  return Object.fromEntries(
    Object.entries(record).map(([k, v]) => [
      k,
      interrupted && ["updatedAt", "finishedAt"].includes(k) ? typeof v : stampless(v),
    ]),
  );
}

const SOURCE_TABLES = (db: SqlDatabase) =>
  (db.prepare(
    `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
     AND name <> 'schema_versions' ORDER BY name`,
  ).all() as { name: string }[]).map((r) => r.name);

const columnsOf = (db: SqlDatabase, table: string) =>
  (db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);

/**
 * The target equals the SQLite store as the single node would open it next (its unfinished work
 * then marked interrupted): every table row by row, every record through its store, every
 * tensor file byte for byte. Times that both sides stamp with "now" while marking work
 * interrupted are compared only for being set.
 */
async function assertCopyEqual(source: Source, url: string, blobs: BlobStore): Promise<void> {
  const sqlite = SqliteStore.open({ dataDir: source.dir, modules: STORE_MODULES });
  const scratch = await Deno.makeTempDir();
  const pg = await PostgresStore.open({ url, dataDir: scratch, modules: STORE_MODULES, blobs });
  try {
    assert.equal(sqlite.interruptedAtOpen, 2, "the source had two unfinished jobs");
    const tables = SOURCE_TABLES(sqlite.db);
    assert.ok(tables.length >= 12, `tables: ${tables}`);
    for (const table of tables) {
      const columns = columnsOf(sqlite.db, table);
      const stamp = (rows: unknown[][]) => {
        const error = columns.indexOf("error");
        return rows.map((r) =>
          r[error] === "interrupted"
            ? r.map((v, i) => ["finished_at", "updated_at"].includes(columns[i]) ? typeof v : v)
            : r
        );
      };
      const want = sorted(stamp(rowsOf(sqlite.db, table, columns)));
      const got = sorted(stamp(rowsOf(pg.db, table, columns)));
      assert.deepEqual(got, want, `table ${table}`);
    }

    const same = (read: (store: Store) => unknown, what: string) =>
      assert.deepEqual(stampless(read(pg)), stampless(read(sqlite)), what);
    const { ids } = source;
    for (const id of [ids.run1, ids.run2, ids.run3]) {
      same((s) => s.get(RUNS).get(id), `run ${id}`);
      same((s) => s.get(RUNS).checkpoints(id), `checkpoints of ${id}`);
    }
    same((s) => s.get(RUNS).list({ limit: 10, offset: 0 }), "runs");
    same((s) => s.get(RUNS).study("s1"), "study s1");
    same((s) => s.get(SIMULATORS).list({ limit: 10, offset: 0 }), "simulators");
    assert.equal(pg.get(SIMULATORS).get(ids.fitting)!.status, "failed");
    same((s) => s.get(DATASETS).list(), "datasets");
    same((s) => s.get(DATASETS).all(ids.dataset), "dataset examples");
    same((s) => s.get(DATASETS).all(ids.qa), "prompt/completion examples");
    same((s) => s.get(MODELS).list({ limit: 10, offset: 0 }), "models");
    for (const kind of ["scores", "factors"] as const) {
      same((s) => s.get(INFLUENCE).list(kind, 10, 0), `influence ${kind}`);
    }
    assert.equal(pg.get(INFLUENCE).get("factors", ids.factors)!.status, "failed");
    same((s) => s.get(GRADIENTS).get(ids.gradients), "gradients");
    same((s) => s.get(EVALUATIONS).get(ids.evaluation), "evaluation");
    same((s) => s.get(CURRICULA).list({ limit: 10, offset: 0 }).total, "curricula");
    same((s) => s.jobs.list({ limit: 10, offset: 0 }), "jobs, newest first");
    assert.deepEqual(
      pg.jobs.list({ limit: 10, offset: 0 }).jobs.map((j) => [j.id, j.status]),
      [["job-queued", "failed"], ["job-running", "failed"], ["job-done", "succeeded"]],
    );

    const files = pg.db.prepare("SELECT id FROM tensor_files").all() as { id: string }[];
    assert.equal(files.length, 8);
    for (const { id } of files) {
      assert.deepEqual(await pg.tensors.bytes(id), await sqlite.tensors.bytes(id), `tensor ${id}`);
    }
    // The copy's tensors are in the target blob store, not read from the source folder.
    const loaded = await pg.get(SIMULATORS).load(ids.simulator, ["q0", "q1"]);
    assert.deepEqual([...loaded.params.B], [0.01, 0.02, -0.03, 0, 0.5, 0.25].map(Math.fround));
    assert.equal(loaded.params.lambdaFactor, 0.1 + 0.2);
  } finally {
    pg.close();
    sqlite.close();
    await Deno.remove(scratch, { recursive: true });
  }
}

async function withCopy(
  fn: (source: Source, url: string, blobDir: string) => Promise<void>,
): Promise<void> {
  const source = await makeSource();
  const blobDir = await Deno.makeTempDir({ prefix: "simfluence-copy-blobs-" });
  try {
    await fn(source, freshDatabase(), blobDir);
  } finally {
    await Deno.remove(source.dir, { recursive: true });
    await Deno.remove(blobDir, { recursive: true });
  }
}

const optionsFor = (
  source: Source,
  url: string,
  blobs: BlobStore,
  extra: Partial<StoreCopyOptions> = {},
): StoreCopyOptions => ({
  from: source.dir,
  to: url,
  sourceBlobs: localBlobStore(source.dir),
  targetBlobs: blobs,
  ...extra,
});

const dbFile = (source: Source) => Deno.readFileSync(join(source.dir, "simfluence.db"));

Deno.test({
  name: "store:copy: a round trip copies every record and tensor, and leaves the source as it was",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const blobs = new DirectoryBlobStore(blobDir, true);
      const before = dbFile(source);
      const summary = await copyStore(optionsFor(source, url, blobs));
      assert.deepEqual(dbFile(source), before, "the source file is untouched");
      assert.equal(summary.resumed, false);
      assert.equal(summary.interruptedJobs, 2);
      assert.equal(summary.tensorFiles.written, 8);
      await assertCopyEqual(source, url, blobs);

      const again = await copyStore(optionsFor(source, url, blobs));
      assert.equal(again.alreadyComplete, true, "a second run has nothing to do");
    });
  },
});

/** A folder blob store whose puts fail after `okPuts` of them (a full disk, a lost mount). */
function failingAfter(inner: BlobStore, okPuts: number): BlobStore {
  let puts = 0;
  return {
    shared: inner.shared,
    put: (key, bytes) => {
      if (++puts > okPuts) return Promise.reject(new Error("No space left on device"));
      return inner.put(key, bytes);
    },
    get: (key) => inner.get(key),
    delete: (key) => inner.delete(key),
    list: () => inner.list(),
    removeAbandonedUploads: (before) => inner.removeAbandonedUploads(before),
    describe: () => inner.describe(),
  };
}

Deno.test({
  name: "store:copy: interrupted twice and resumed, the copy ends equal with no row twice",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const blobs = new DirectoryBlobStore(blobDir, true);
      // 1. Ctrl-C in the middle of the tensors (batches of 2 rows, 2 files).
      const controller = new AbortController();
      await assert.rejects(
        copyStore(optionsFor(source, url, blobs, {
          batchRows: 2,
          tensorBatch: 2,
          signal: controller.signal,
          onProgress: (e) => {
            if (e.kind === "table" && e.table === "tensor_files" && e.copied === 2) {
              controller.abort();
            }
          },
        })),
        CopyInterruptedError,
      );
      const scratch = await Deno.makeTempDir();
      const peek = await PostgresStore.open({ url, dataDir: scratch, modules: STORE_MODULES });
      const count = (table: string) =>
        Number((peek.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
      assert.equal(count("jobs"), 3, "jobs were copied before the tensors");
      assert.equal(count("runs"), 3, "so were the tensors' owners");
      assert.equal(count("tensor_files"), 2, "one committed batch of tensor rows");
      // A node started too early, hours later: its clean-up finds every copied tensor owned.
      const reclaimed = await reclaimSharedTensors(peek.db, blobs, {
        graceMs: 3600_000,
        now: Date.now() + 2 * 3600_000,
      });
      assert.deepEqual(reclaimed, { unowned: 0, strays: 0 });
      assert.equal(count("tensor_files"), 2);

      // 2. The blob store fails on the 2nd file of the resumed run: the 1st one's row is not yet
      // committed (its batch is not complete), its blob is.
      await assert.rejects(
        copyStore(optionsFor(source, url, failingAfter(blobs, 1), { tensorBatch: 2 })),
        /No space left on device/,
      );
      assert.equal(count("tensor_files"), 2, "the failed batch committed no row");
      peek.close();
      await Deno.remove(scratch, { recursive: true });

      // 3. Resumed to the end: the blob written in 2 without its row is found and kept.
      const summary = await copyStore(optionsFor(source, url, blobs, { batchRows: 2 }));
      assert.equal(summary.resumed, true);
      assert.ok(summary.tensorFiles.alreadyThere >= 1, JSON.stringify(summary.tensorFiles));
      await assertCopyEqual(source, url, blobs);
      assert.equal(
        [...Deno.readDirSync(blobDir)].filter((e) => e.name.endsWith(".safetensors")).length,
        8,
        "one blob per tensor file, none left over",
      );
    });
  },
});

Deno.test({
  name: "store:copy: refuses a non-empty target, another copy's target, and another blob target",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const blobs = new DirectoryBlobStore(blobDir, true);
      const scratch = await Deno.makeTempDir();
      const used = await PostgresStore.open({ url, dataDir: scratch, modules: STORE_MODULES });
      used.jobs.create({ id: "theirs", kind: "k", input: null });
      used.close();
      await assert.rejects(
        copyStore(optionsFor(source, url, blobs)),
        (e: Error) => e instanceof CopyError && /not empty \(jobs: 1 rows\)/.test(e.message),
      );

      // Someone else's database: refused before any table of ours is created there.
      const theirs = freshDatabase();
      const foreign = await PostgresDatabase.connect({ url: theirs });
      foreign.exec("CREATE TABLE invoices (id INTEGER PRIMARY KEY)");
      await assert.rejects(
        copyStore(optionsFor(source, theirs, blobs)),
        (e: Error) =>
          e instanceof CopyError && /not a Simfluence store \(invoices\)/.test(e.message),
      );
      const tables = foreign.prepare(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      ).all();
      foreign.close();
      assert.deepEqual(tables, [{ table_name: "invoices" }]);

      // A node running on the target (its row heartbeats): refused; one gone for long is not.
      const live = freshDatabase();
      const cluster = await PostgresStore.open({ url: live, dataDir: scratch });
      migrate(cluster.db, NODES.name, NODES.postgresMigrations!);
      new NodesTable(cluster.db).join({ id: "node-a", role: "all", adapter: null });
      await assert.rejects(
        copyStore(optionsFor(source, live, blobs)),
        (e: Error) => e instanceof CopyError && /nodes are running .*\(node-a\)/.test(e.message),
      );
      cluster.db.exec("UPDATE nodes SET heartbeat_at = 0");
      cluster.close();
      assert.equal((await copyStore(optionsFor(source, live, blobs))).resumed, false);

      // A copy of this source stopped half-way, then another source or blob store aimed at it.
      const mine = freshDatabase();
      const controller = new AbortController();
      await assert.rejects(
        copyStore(optionsFor(source, mine, blobs, {
          signal: controller.signal,
          onProgress: (e) => e.kind === "table" && controller.abort(),
        })),
        CopyInterruptedError,
      );
      const other = await makeSource();
      try {
        await assert.rejects(
          copyStore(optionsFor(other, mine, blobs)),
          (e: Error) => e instanceof CopyError && /holds a copy of another store/.test(e.message),
        );
      } finally {
        await Deno.remove(other.dir, { recursive: true });
      }
      const elsewhere = new DirectoryBlobStore(join(scratch, "elsewhere"), true);
      await assert.rejects(
        copyStore(optionsFor(source, mine, elsewhere)),
        (e: Error) => e instanceof CopyError && /resume it with that same target/.test(e.message),
      );
      await Deno.remove(scratch, { recursive: true });
    });
  },
});

Deno.test({
  name: "store:copy: a corrupt tensor file in the source stops the copy before its row",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const sqlite = SqliteStore.open({ dataDir: source.dir, modules: STORE_MODULES });
      const victim = sqlite.get(RUNS).get(source.ids.run2)!;
      const file = (sqlite.db.prepare("SELECT file FROM tensor_files WHERE id = ?").get(
        (sqlite.db.prepare("SELECT losses_tensor FROM runs WHERE id = ?").get(victim.id) as {
          losses_tensor: string;
        }).losses_tensor,
      ) as { file: string }).file;
      sqlite.close();
      const path = join(source.dir, "tensors", file);
      const bytes = Deno.readFileSync(path);
      bytes[bytes.length - 1] ^= 0xff;
      Deno.writeFileSync(path, bytes);

      await assert.rejects(
        copyStore(optionsFor(source, url, new DirectoryBlobStore(blobDir, true))),
        (e: Error) => e instanceof CopyError && /is corrupt: SHA-256/.test(e.message),
      );
      assert.ok(!Deno.readDirSync(blobDir).some((e) => e.name === file), "no blob written");
    });
  },
});

/** Runs main() with its console output captured. */
async function runMain(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  // Commander writes its help and errors through process.stdout/stderr.
  const process = (await import("node:process")).default;
  const writes = [process.stdout.write, process.stderr.write];
  process.stdout.write =
    ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write =
    ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    [process.stdout.write, process.stderr.write] = writes;
  }
}

Deno.test({
  name: "store:copy command: usage errors name the flag (exit 2), a full copy exits 0",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const help = await runMain(["--help"]);
      assert.equal(help.code, 0);
      assert.match(help.out, /--from <dir>[\s\S]*--blobs <url>[\s\S]*Exit codes/);

      const cases: [string[], RegExp][] = [
        [["--to", url, "--blobs", `file://${blobDir}`], /required option '--from <dir>'/],
        [["--from", source.dir, "--to", url], /required option '--blobs <url>'/],
        [["--from", source.dir, "--to", url, "--blobs", "x", "--nope"], /unknown option '--nope'/],
        [["--from", "/no/such/dir", "--to", url, "--blobs", `file://${blobDir}`], /--from: /],
        [["--from", source.dir, "--to", "mysql://x/y", "--blobs", `file://${blobDir}`], /--to: /],
        [["--from", source.dir, "--to", url, "--blobs", "tensors/"], /--blobs: expected file:/],
        [
          ["--from", source.dir, "--to", url, "--blobs", `file://${blobDir}`, "--batch-rows", "0"],
          /--batch-rows: /,
        ],
      ];
      for (const [args, message] of cases) {
        const { code, err } = await runMain(args);
        assert.equal(code, 2, `${args.join(" ")}: ${err}`);
        assert.match(err, message);
        assert.doesNotMatch(err, /\n\s+at /, "no stack trace");
      }

      const empty = await Deno.makeTempDir();
      try {
        const refused = await runMain([
          "--from",
          empty,
          "--to",
          url,
          "--blobs",
          `file://${blobDir}`,
        ]);
        assert.equal(refused.code, 1);
        assert.match(refused.err, /no single-node store/);
      } finally {
        await Deno.remove(empty, { recursive: true });
      }

      const args = ["--from", source.dir, "--to", url, "--blobs", `file://${blobDir}`];
      const copied = await runMain(args);
      assert.equal(copied.code, 0, copied.err);
      assert.match(copied.out, /copied \d+ rows in \d+ tables and 8 tensor files/);
      assert.match(copied.err, /verified runs: 3 rows/);
      const again = await runMain(args);
      assert.equal(again.code, 0);
      assert.match(again.out, /already copied/);
    });
  },
});

/** `deno task store:copy …` in a child process, with the task's own permission flags. */
async function task(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const root = new URL("../../", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "store:copy", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: text(out.stdout), err: text(out.stderr) };
}

Deno.test("store:copy command: --help works as a task, in a plain shell", async () => {
  const help = await task(["--help"]);
  assert.equal(help.code, 0, help.err);
  assert.match(help.out, /Usage: store:copy/);
});

Deno.test({
  name: "store:copy command: the task's permissions suffice for a whole copy",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const run = await task(["--from", source.dir, "--to", url, "--blobs", `file://${blobDir}`]);
      assert.equal(run.code, 0, run.err);
      assert.match(run.out, /copied \d+ rows in \d+ tables and 8 tensor files/);
      assert.doesNotMatch(run.err, /PermissionDenied|NotCapable/);
    });
  },
});

Deno.test({
  name: "store:copy: a source changed between an interruption and the resume is caught",
  ignore,
  async fn() {
    await withCopy(async (source, url, blobDir) => {
      const blobs = new DirectoryBlobStore(blobDir, true);
      const controller = new AbortController();
      await assert.rejects(
        copyStore(optionsFor(source, url, blobs, {
          signal: controller.signal,
          onProgress: (e) => e.kind === "table" && e.table === "tensor_files" && controller.abort(),
        })),
        CopyInterruptedError,
      );
      // The single node started again meanwhile: it marked its unfinished jobs failed, rows the
      // copy had already taken.
      SqliteStore.open({ dataDir: source.dir, modules: STORE_MODULES }).close();
      await assert.rejects(
        copyStore(optionsFor(source, url, blobs)),
        (e: Error) =>
          e instanceof CopyError &&
          /table jobs in the target differs from the source/.test(e.message),
      );
    });
  },
});

Deno.test({
  name: "store:copy command: into an S3 bucket, an upload failing mid-copy, then resumed",
  ignore,
  async fn() {
    const s3 = await startTestS3Server();
    const env = {
      SIMFLUENCE_S3_ENDPOINT: s3.endpoint,
      AWS_REGION: TEST_S3_REGION,
      AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
    };
    const saved = Object.keys(env).map((k) => [k, Deno.env.get(k)] as const);
    for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
    try {
      await withCopy(async (source, url) => {
        const args = ["--from", source.dir, "--to", url, "--blobs", `s3://${TEST_S3_BUCKET}/moved`];
        s3.failPuts = true;
        const failed = await runMain(args);
        assert.equal(failed.code, 1, failed.err);
        assert.match(failed.err, /run the same command again to resume/);
        assert.doesNotMatch(failed.err, /\n\s+at /, "no stack trace");
        assert.doesNotMatch(failed.err, new RegExp(TEST_S3_CREDENTIALS.secretAccessKey));

        s3.failPuts = false;
        const resumed = await runMain(args);
        assert.equal(resumed.code, 0, resumed.err);
        assert.match(resumed.out, /8 tensor files .*\(resumed\)/);
        const blobs = new S3BlobStore(
          {
            bucket: TEST_S3_BUCKET,
            prefix: "moved/",
            endpoint: s3.endpoint,
            region: TEST_S3_REGION,
          },
          TEST_S3_CREDENTIALS,
        );
        await assertCopyEqual(source, url, blobs);
      });
    } finally {
      for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
      await s3.stop();
    }
  },
});
