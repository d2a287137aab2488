import assert from "node:assert/strict";
import { join } from "node:path";
import { SqliteDatabase } from "../../src/store/sql/sqlite_database.ts";
import {
  CORE_MIGRATIONS,
  migrate,
  type Migration,
  MigrationError,
  schemaVersion,
} from "../../src/store/migrations.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { INTERRUPTED_ERROR, SqliteStore } from "../../src/store/sqlite.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

async function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-store-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const counting = (log: string[]): Migration[] => [
  { name: "one", up: (db) => (log.push("one"), db.exec("CREATE TABLE t1 (x INTEGER)")) },
  { name: "two", up: (db) => (log.push("two"), db.exec("CREATE TABLE t2 (x INTEGER)")) },
];

Deno.test("store: opening", async (t) => {
  await t.step("creates the data dir, uses WAL, applies all migrations", () =>
    withDir((dir) => {
      const dataDir = join(dir, "nested", "data");
      const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
      const mode = store.db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
      assert.equal(mode.journal_mode, "wal");
      for (const module of STORE_MODULES) {
        assert.equal(schemaVersion(store.db, module.name), module.migrations.length);
      }
      assert.equal(store.problem(), null);
      store.close();
      assert.equal(store.problem(), "store is closed");
    }));

  await t.step(
    "migrations run once each, in order, and resume where they stopped",
    () =>
      withDir((dir) => {
        const log: string[] = [];
        const file = join(dir, "m.db");
        const open = () => new SqliteDatabase(file);
        let db = open();
        assert.equal(migrate(db, "test", counting(log).slice(0, 1)), 1);
        db.close();
        db = open();
        assert.equal(migrate(db, "test", counting(log)), 1);
        db.close();
        db = open();
        assert.equal(migrate(db, "test", counting(log)), 0);
        assert.deepEqual(log, ["one", "two"]);
        assert.equal(schemaVersion(db, "test"), 2);
        db.close();
      }),
  );

  await t.step(
    "a failing migration rolls back entirely and is reported by name",
    () =>
      withDir((dir) => {
        const broken: Migration[] = [
          ...counting([]),
          {
            name: "half-done",
            up: (db) => {
              db.exec("CREATE TABLE t3 (x INTEGER)");
              throw new Error("boom");
            },
          },
        ];
        const db = new SqliteDatabase(join(dir, "m.db"));
        assert.throws(() => migrate(db, "test", broken), (e: unknown) => {
          assert.ok(e instanceof MigrationError);
          assert.match(e.message, /migration 3 \(half-done\) failed: boom/);
          return true;
        });
        assert.equal(schemaVersion(db, "test"), 2);
        const t3 = db.prepare("SELECT name FROM sqlite_master WHERE name = 't3'").get();
        assert.equal(t3, undefined);
        db.close();
      }),
  );

  await t.step("a database newer than the code is refused", () =>
    withDir((dir) => {
      SqliteStore.open({ dataDir: dir, modules: STORE_MODULES }).close();
      assert.throws(
        () => {
          const older = { ...RUNS, migrations: RUNS.migrations.slice(0, -1) };
          const modules = STORE_MODULES.map((m) => m.name === RUNS.name ? older : m);
          SqliteStore.open({ dataDir: dir, modules });
        },
        /newer than this code/,
      );
    }));
});

Deno.test("store: transactions", async (t) => {
  await withDir(async (dir) => {
    const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
    const count = () => store.jobs.list({ limit: 100, offset: 0 }).total;

    await t.step("commit keeps every row", () => {
      store.transaction(() => {
        store.jobs.create({ id: "a", kind: "k", input: null });
        store.jobs.create({ id: "b", kind: "k", input: null });
      });
      assert.equal(count(), 2);
    });

    await t.step("a failed transaction leaves nothing", () => {
      assert.throws(() =>
        store.transaction(() => {
          store.jobs.create({ id: "c", kind: "k", input: null });
          store.jobs.update("a", { status: "failed" });
          store.jobs.create({ id: "a", kind: "k", input: null }); // duplicate key
        }), /UNIQUE/);
      assert.equal(count(), 2);
      assert.equal(store.jobs.get("c"), null);
      assert.equal(store.jobs.get("a")!.status, "queued");
    });

    await t.step("nested transactions roll back only the inner part", () => {
      store.transaction(() => {
        store.jobs.create({ id: "outer", kind: "k", input: null });
        assert.throws(() =>
          store.transaction(() => {
            store.jobs.create({ id: "inner", kind: "k", input: null });
            throw new Error("inner fails");
          }), /inner fails/);
      });
      assert.ok(store.jobs.get("outer"));
      assert.equal(store.jobs.get("inner"), null);
    });

    await t.step("async callbacks are refused and rolled back", () => {
      assert.throws(
        () =>
          store.transaction(() => {
            store.jobs.create({ id: "async", kind: "k", input: null });
            return Promise.resolve();
          }),
        /synchronous/,
      );
      assert.equal(store.jobs.get("async"), null);
      // The store is still usable afterwards.
      store.transaction(() => store.jobs.create({ id: "after", kind: "k", input: null }));
      assert.ok(store.jobs.get("after"));
    });
    store.close();
  });
});

Deno.test("store: jobs table", async (t) => {
  await withDir(async (dir) => {
    const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
    await t.step("create, update and read back JSON columns and times", () => {
      const created = store.jobs.create({ id: "j1", kind: "fit", input: { steps: 3 } });
      assert.equal(created.status, "queued");
      assert.deepEqual(created.input, { steps: 3 });
      assert.equal(created.startedAt, null);
      const startedAt = new Date().toISOString();
      const progress = {
        phase: "fit",
        fraction: 0.5,
        step: 1,
        total: 2,
        etaSeconds: 3,
        throughput: 0.5,
        unit: "steps",
        throughputUnit: "steps",
        message: "half",
        details: { run: 2, trainLoss: 1.25 },
        updatedAt: startedAt,
      };
      store.jobs.update("j1", { status: "running", startedAt, progress });
      store.jobs.update("j1", { status: "succeeded", result: { loss: [1, 0.5] } });
      const job = store.jobs.get("j1")!;
      assert.equal(job.status, "succeeded");
      assert.equal(job.startedAt, startedAt);
      assert.deepEqual(job.progress, progress);
      assert.deepEqual(job.result, { loss: [1, 0.5] });
    });

    await t.step("list pages newest first and filters", () => {
      for (let i = 0; i < 5; i++) {
        store.jobs.create({ id: `p${i}`, kind: i % 2 ? "odd" : "even", input: i });
      }
      const page = store.jobs.list({ limit: 2, offset: 1 });
      assert.equal(page.total, 6);
      assert.deepEqual(page.jobs.map((j) => j.id), ["p3", "p2"]);
      assert.deepEqual(
        store.jobs.list({ limit: 10, offset: 0, kind: "odd" }).jobs.map((j) => j.id),
        ["p3", "p1"],
      );
      assert.equal(store.jobs.list({ limit: 10, offset: 0, status: "succeeded" }).total, 1);
    });
    store.close();
  });

  await t.step(
    "jobs left queued or running are marked interrupted at reopen",
    () =>
      withDir((dir) => {
        const first = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
        first.jobs.create({ id: "queued", kind: "k", input: null });
        first.jobs.create({ id: "running", kind: "k", input: null });
        first.jobs.update("running", { status: "running", startedAt: new Date().toISOString() });
        first.jobs.create({ id: "done", kind: "k", input: null });
        first.jobs.update("done", { status: "succeeded", finishedAt: new Date().toISOString() });
        first.close(); // the process "dies" here
        const second = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
        assert.equal(second.interruptedAtOpen, 2);
        for (const id of ["queued", "running"]) {
          const job = second.jobs.get(id)!;
          assert.equal(job.status, "failed");
          assert.equal(job.error, INTERRUPTED_ERROR);
          assert.notEqual(job.finishedAt, null);
        }
        assert.equal(second.jobs.get("done")!.status, "succeeded");
        second.close();
      }),
  );
});

Deno.test("store: a database from before per-module versions is adopted", () =>
  withDir((dir) => {
    // The old layout: one global, ordered list recorded in schema_migrations (version, name).
    const legacyOrder = [
      ...CORE_MIGRATIONS,
      ...STORE_MODULES.flatMap((m) =>
        m.name === RUNS.name ? m.migrations.slice(0, 1) : m.migrations
      ),
      ...RUNS.migrations.slice(1),
    ];
    const db = new SqliteDatabase(join(dir, "simfluence.db"));
    db.exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at INTEGER)",
    );
    legacyOrder.forEach((m, i) => {
      m.up(db);
      db.prepare("INSERT INTO schema_migrations VALUES (?, ?, ?)").run(i + 1, m.name, 0);
    });
    db.exec("INSERT INTO jobs (id, kind, status, created_at) VALUES ('j', 'k', 'succeeded', 0)");
    db.close();
    const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
    try {
      for (const module of STORE_MODULES) {
        assert.equal(schemaVersion(store.db, module.name), module.migrations.length, module.name);
      }
      assert.equal(store.jobs.get("j")!.status, "succeeded");
      const legacy = store.db.prepare(
        "SELECT name FROM sqlite_master WHERE name = 'schema_migrations'",
      ).get();
      assert.equal(legacy, undefined);
    } finally {
      store.close();
    }
  }));

Deno.test("store: a module that was not registered is named", () =>
  withDir((dir) => {
    const store = SqliteStore.open({ dataDir: dir, modules: [] });
    try {
      assert.throws(() => store.get(RUNS), /store module "runs" was not registered/);
    } finally {
      store.close();
    }
  }));
