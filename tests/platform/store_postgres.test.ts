// The PostgreSQL store's own layer, on a throwaway cluster: placeholders, values and large
// answers through the worker, SQLSTATE errors and what they map to, transactions and savepoints,
// a connection lost inside a transaction, the advisory write lock between two nodes' stores, and
// schema parity with SQLite (every module's PostgreSQL migrations make the same tables and columns).
import assert from "node:assert/strict";
import { numberPlaceholders } from "../../src/store/sql/placeholders.ts";
import { PostgresDatabase, PostgresError } from "../../src/store/sql/postgres_database.ts";
import { PostgresStore, WRITE_LOCK } from "../../src/store/postgres.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { storageFailure } from "../../src/store/storage_error.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";
import { freshDatabase, POSTGRES_INSTALL, postgresAvailable } from "../helpers/postgres.ts";

const skip = !postgresAvailable;

Deno.test({
  name: "store (postgres): PostgreSQL is installed under CI",
  ignore: postgresAvailable || Deno.env.get("CI") !== "true",
  fn: () => assert.fail(`CI=true but PostgreSQL is missing: ${POSTGRES_INSTALL}`),
});

Deno.test("store (postgres): placeholders are numbered outside quotes and comments", () => {
  assert.equal(
    numberPlaceholders(`SELECT '?', "a?b", x FROM t WHERE a = ? -- is it?\n AND b = ? /* ? */`),
    `SELECT '?', "a?b", x FROM t WHERE a = $1 -- is it?\n AND b = $2 /* ? */`,
  );
  assert.equal(numberPlaceholders("VALUES (?, 'it''s ?', ?)"), "VALUES ($1, 'it''s ?', $2)");
});

Deno.test({
  name: "store (postgres): values, counts and answers larger than the shared buffer",
  ignore: skip,
  async fn() {
    const db = await PostgresDatabase.connect({ url: freshDatabase(), bufferBytes: 1024 });
    try {
      db.exec("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, x DOUBLE PRECISION, s TEXT)");
      const insert = db.prepare("INSERT INTO t (id, n, x, s) VALUES (?, ?, ?, ?)");
      const now = Date.now();
      assert.equal(Number(insert.run("a", now, 0.125, "héllo ✓").changes), 1);
      insert.run("b", null, null, null);
      assert.deepEqual(db.prepare("SELECT * FROM t WHERE id = ?").get("a"), {
        id: "a",
        n: now,
        x: 0.125,
        s: "héllo ✓",
      });
      assert.equal(db.prepare("SELECT * FROM t WHERE id = ?").get("zz"), undefined);
      const { c } = db.prepare("SELECT COUNT(*) AS c FROM t").get() as { c: number };
      assert.equal(c, 2); // COUNT is BIGINT: a number, not a string
      // 5,000 rows of ~60 bytes each arrive through a 1 KiB buffer in several hundred chunks.
      db.exec(
        "INSERT INTO t SELECT 'r' || g, g, g / 7.0, repeat('z', 40) FROM generate_series(1, 5000) g",
      );
      const rows = db.prepare("SELECT id, n FROM t WHERE n < ? ORDER BY n").all(6000);
      assert.equal(rows.length, 5000);
      assert.deepEqual(rows[4999], { id: "r5000", n: 5000 });
      assert.equal(Number(db.prepare("DELETE FROM t WHERE n > ?").run(4000).changes), 1001);
    } finally {
      db.close();
    }
  },
});

Deno.test({
  name: "store (postgres): errors keep their SQLSTATE; an unreachable server is a 503",
  ignore: skip,
  async fn() {
    const db = await PostgresDatabase.connect({ url: freshDatabase() });
    try {
      db.exec("CREATE TABLE u (id TEXT PRIMARY KEY)");
      db.prepare("INSERT INTO u VALUES (?)").run("x");
      assert.throws(
        () => db.prepare("INSERT INTO u VALUES (?)").run("x"),
        (e: unknown) => e instanceof PostgresError && e.code === "23505",
      );
      assert.throws(
        () => db.exec("SELEC 1"),
        (e: unknown) => (e as PostgresError).code === "42601",
      );
      // A constraint violation is not an outage: no mapping (it stays a bug-level 500).
      assert.equal(storageFailure(new PostgresError("dup", "23505")), null);
      assert.equal(storageFailure(new PostgresError("refused"))?.code, "database_unavailable");
      assert.equal(
        storageFailure(new PostgresError("gone", "57P01"))?.code,
        "database_unavailable",
      );
      assert.equal(
        storageFailure(new PostgresError("full", "53100"))?.code,
        "insufficient_storage",
      );
      // Too busy (a statement timeout waiting on the write lock, a deadlock): a 503 too.
      for (const code of ["57014", "55P03", "40001", "40P01"]) {
        assert.equal(storageFailure(new PostgresError("busy", code))?.code, "database_unavailable");
      }
    } finally {
      db.close();
    }
    await assert.rejects(
      PostgresDatabase.connect({ url: "postgres://postgres@127.0.0.1:1/none" }),
      (e: unknown) => e instanceof PostgresError && storageFailure(e) !== null,
    );
  },
});

Deno.test({
  name: "store (postgres): transactions, savepoints, and a connection lost inside one",
  ignore: skip,
  async fn() {
    const url = freshDatabase();
    const store = await PostgresStore.open({
      url,
      dataDir: await Deno.makeTempDir(),
      modules: STORE_MODULES,
    });
    const other = await PostgresDatabase.connect({ url });
    try {
      const db = store.db;
      db.exec("CREATE TABLE k (v TEXT)");
      const put = db.prepare("INSERT INTO k VALUES (?)");
      const values = () => db.prepare("SELECT v FROM k ORDER BY v").all().map((r) => r.v);
      store.transaction(() => {
        put.run("a");
        assert.throws(() =>
          store.transaction(() => {
            put.run("b");
            throw new Error("inner");
          })
        );
        put.run("c");
      });
      assert.deepEqual(values(), ["a", "c"]);
      assert.throws(() => store.transaction(() => Promise.resolve(1)), TypeError);
      // The server ends this node's connection in the middle of a transaction.
      const pid = (db.prepare("SELECT pg_backend_pid() AS pid").get() as { pid: number }).pid;
      assert.throws(() =>
        store.transaction(() => {
          put.run("d");
          other.prepare("SELECT pg_terminate_backend(?)").get(pid);
          put.run("e"); // must not run in autocommit on a new connection
        })
      );
      // Nothing of it was committed, and the next call connects again.
      assert.deepEqual(values(), ["a", "c"]);
      assert.equal(store.problem(), null);
    } finally {
      other.close();
      store.close();
    }
  },
});

Deno.test({
  name: "store (postgres): write transactions of two nodes take one cluster-wide lock",
  ignore: skip,
  async fn() {
    const url = freshDatabase();
    const a = await PostgresStore.open({ url, dataDir: await Deno.makeTempDir() });
    // Node b gives up after 1 s instead of waiting (both "nodes" share this test's one thread).
    const b = await PostgresDatabase.connect({ url, statementTimeoutMs: 1_000 });
    try {
      a.transaction(() => {
        const started = Date.now();
        assert.throws(
          () => b.exec(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`),
          (e: unknown) => (e as PostgresError).code === "57014", // statement timeout
        );
        assert.ok(Date.now() - started >= 900, "b waited for a's lock");
        b.exec("ROLLBACK");
      });
      // Once a commits, b takes the lock at once.
      b.exec(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK}); COMMIT`);
    } finally {
      b.close();
      a.close();
    }
  },
});

function columns(rows: { t: string; c: string }[]): Map<string, Set<string>> {
  const tables = new Map<string, Set<string>>();
  for (const { t, c } of rows) {
    if (!tables.has(t)) tables.set(t, new Set());
    tables.get(t)!.add(c);
  }
  return tables;
}

/** Columns only PostgreSQL has: SQLite's rowid stands in for jobs.seq; the cluster's jobs.node. */
const POSTGRES_ONLY = new Set(["jobs.seq", "jobs.node"]);

Deno.test({
  name: "store (postgres): every module's PostgreSQL schema has SQLite's tables and columns",
  ignore: skip,
  async fn() {
    const dir = await Deno.makeTempDir();
    const sqlite = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
    const postgres = await PostgresStore.open({
      url: freshDatabase(),
      dataDir: await Deno.makeTempDir(),
      modules: STORE_MODULES,
    });
    try {
      const lite = columns(
        sqlite.db.prepare(
          `SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p
           WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`,
        ).all() as { t: string; c: string }[],
      );
      const pg = columns(
        postgres.db.prepare(
          `SELECT table_name AS t, column_name AS c FROM information_schema.columns
           WHERE table_schema = current_schema()`,
        ).all() as { t: string; c: string }[],
      );
      const names = (m: Map<string, Set<string>>) => [...m.keys()].sort();
      // Tables of modules registered only on PostgreSQL (the cluster's) are not in SQLite.
      const shared = names(pg).filter((t) => lite.has(t));
      assert.deepEqual(shared, names(lite));
      for (const table of shared) {
        const pgColumns = [...pg.get(table)!].filter((c) => !POSTGRES_ONLY.has(`${table}.${c}`));
        assert.deepEqual(pgColumns.sort(), [...lite.get(table)!].sort(), table);
      }
    } finally {
      sqlite.close();
      postgres.close();
    }
  },
});
