// Tensor clean-up on PostgreSQL, where every node shares the rows: owner columns are found through
// information_schema (the store's schema, base tables only), and even with the node's own folder
// only what has been unowned for longer than the grace period goes.
import assert from "node:assert/strict";
import { PostgresStore } from "../../src/store/postgres.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { DirectoryBlobStore } from "../../src/store/blobs/directory.ts";
import {
  reclaimAfterOpen,
  reclaimUnownedTensors,
  tensorOwnerColumns,
} from "../../src/store/tensor_gc.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";
import { freshDatabase, postgresAvailable } from "../helpers/postgres.ts";

const tensor = () => ({ x: { shape: [2], data: new Float32Array([1, 2]) } });
const owners = (db: Parameters<typeof tensorOwnerColumns>[0]) =>
  tensorOwnerColumns(db).map((o) => `${o.table}.${o.column}`).sort();

Deno.test({
  name: "PostgreSQL: the same owner columns as SQLite, and the grace period always applies",
  ignore: !postgresAvailable,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-gc-pg-" });
    const blobs = new DirectoryBlobStore(
      await Deno.makeTempDir({ prefix: "simfluence-gc-pg-t-" }),
      false,
    );
    const full = await PostgresStore.open({
      url: freshDatabase(),
      dataDir,
      modules: STORE_MODULES,
      blobs,
    });
    const sqlite = SqliteStore.open({ dataDir, modules: STORE_MODULES });
    try {
      assert.deepEqual(owners(full.db), owners(sqlite.db));
    } finally {
      full.close();
      sqlite.close();
    }

    const store = await PostgresStore.open({ url: freshDatabase(), dataDir, blobs });
    try {
      const db = store.db;
      // A uuid owner column still compares with the text ids; a view and another schema own
      // nothing.
      db.exec("CREATE TABLE gc_owners (id TEXT, weights_tensor UUID, note TEXT)");
      db.exec("CREATE VIEW gc_view AS SELECT weights_tensor AS view_tensor FROM gc_owners");
      db.exec("CREATE SCHEMA gc_other; CREATE TABLE gc_other.elsewhere (x_tensor TEXT)");
      assert.deepEqual(owners(db), ["gc_owners.weights_tensor"]);

      const owned = await store.tensors.put(tensor());
      const abandoned = await store.tensors.put(tensor());
      const justCommitted = await store.tensors.put(tensor()); // another node's, owner to follow
      db.prepare("INSERT INTO gc_owners VALUES ('o', ?, ?)").run(owned.id, abandoned.id);
      db.prepare("UPDATE tensor_files SET created_at = ? WHERE id IN (?, ?)").run(
        Date.now() - 2 * 3600_000,
        owned.id,
        abandoned.id,
      );
      // Other nodes share the rows: nothing goes at once, even from the node's own folder.
      assert.deepEqual(reclaimUnownedTensors(db, blobs), { unowned: 0, strays: 0 });
      assert.deepEqual(await reclaimAfterOpen(db, blobs, 3600), { unowned: 1, strays: 0 });
      assert.equal(store.tensors.info(abandoned.id), null);
      assert.ok(store.tensors.info(justCommitted.id) !== null);
      assert.deepEqual((await store.tensors.get(owned.id)).tensors.get("x")?.shape, [2]);
    } finally {
      store.close();
      await Deno.remove(dataDir, { recursive: true });
      await Deno.remove(blobs.dir, { recursive: true });
    }
  },
});
