// Start-up removes tensor files that no row owns (committed, but their owner never was) and files
// that have no row (renamed, then killed before the commit); owned files stay. Where other nodes
// write to the same folder, only what has been unowned for longer than the grace period goes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { defineStoreModule } from "../../src/store/store.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { reclaimAfterOpen, tensorOwnerColumns } from "../../src/store/tensor_gc.ts";
import { DirectoryBlobStore } from "../../src/store/blobs/directory.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

const OWNERS = defineStoreModule({
  name: "gc_owners",
  migrations: [{
    name: "gc_owners",
    up: (db) => db.exec("CREATE TABLE gc_owners (id TEXT, weights_tensor TEXT, note TEXT)"),
  }],
  open: (context) => context,
});

const tensor = () => ({ x: { shape: [2], data: new Float32Array([1, 2]) } });

Deno.test("unowned tensor rows and stray files are removed at open; owned ones stay", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-gc-" });
  try {
    let store = SqliteStore.open({ dataDir, modules: [OWNERS] });
    assert.deepEqual(store.reclaimedAtOpen, { unowned: 0, strays: 0 });
    const owned = await store.tensors.put(tensor());
    const orphan = await store.tensors.put(tensor());
    store.get(OWNERS).db.prepare("INSERT INTO gc_owners VALUES ('o', ?, ?)").run(
      owned.id,
      orphan.id,
    );
    const tensorDir = join(dataDir, "tensors");
    await Deno.writeFile(join(tensorDir, "stray.safetensors"), new Uint8Array([1]));
    await Deno.writeFile(join(tensorDir, "x.safetensors.partial"), new Uint8Array([1]));
    assert.deepEqual(
      tensorOwnerColumns(store.get(OWNERS).db).filter((c) => c.table === "gc_owners"),
      [
        { table: "gc_owners", column: "weights_tensor" },
      ],
    );
    store.close();

    store = SqliteStore.open({ dataDir, modules: [OWNERS] });
    try {
      // The orphan's id sits in a column that is not an owner column ("note"): still unowned.
      assert.deepEqual(store.reclaimedAtOpen, { unowned: 1, strays: 1 });
      assert.equal(store.tensors.info(orphan.id), null);
      assert.deepEqual((await store.tensors.get(owned.id)).tensors.get("x")?.shape, [2]);
      const left = [...Deno.readDirSync(tensorDir)].map((e) => e.name);
      assert.deepEqual(left, [`${owned.id}.safetensors`]);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

// Start-up deletes every tensor file that no `tensor`/`*_tensor` column names, so a module that
// stored its tensor ids under another column name would lose its files at every start. This pins
// the owners of the real store: a renamed or new tensor column fails here first, not in a user's
// data directory.
Deno.test("every module's tensor ids live in columns the reclamation recognises", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-gc-owners-" });
  const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
  try {
    const owners = tensorOwnerColumns(store.db).map((o) => `${o.table}.${o.column}`).sort();
    assert.deepEqual(owners, [
      "influence_factors.tensor",
      "influence_scores.tensor",
      "models.params_tensor",
      "projected_gradients.tensor",
      "run_checkpoints.tensor",
      "runs.losses_tensor",
      "simulators.params_tensor",
    ]);
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a shared folder: only what is unowned for longer than the grace period goes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-gc-shared-" });
  const sharedDir = await Deno.makeTempDir({ prefix: "simfluence-gc-nfs-" });
  const blobs = new DirectoryBlobStore(sharedDir, true);
  let store = SqliteStore.open({ dataDir, modules: [OWNERS], blobs });
  try {
    let tensors = store.tensors;
    const db = store.get(OWNERS).db;
    const hoursAgo = (h: number) => Date.now() - h * 3600_000;
    const age = async (name: string, h: number) => {
      const when = new Date(hoursAgo(h));
      await Deno.utime(join(sharedDir, name), when, when);
    };

    const owned = await tensors.put(tensor());
    db.prepare("INSERT INTO gc_owners VALUES ('o', ?, NULL)").run(owned.id);
    // A dead job's file: committed two hours ago, its owner never was.
    const abandoned = await tensors.put(tensor());
    // Another node's file committed a moment ago, its owner's row about to follow.
    const justCommitted = await tensors.put(tensor());
    db.prepare("UPDATE tensor_files SET created_at = ? WHERE id IN (?, ?)").run(
      hoursAgo(2),
      owned.id,
      abandoned.id,
    );
    for (const t of [owned, abandoned]) await age(`${t.id}.safetensors`, 2);
    // Blobs with no row: a node killed before its commit, and another node's upload whose
    // row has not committed yet.
    await Deno.writeFile(join(sharedDir, "dead.safetensors"), new Uint8Array([1]));
    await age("dead.safetensors", 2);
    await Deno.writeFile(join(sharedDir, "uploading.safetensors"), new Uint8Array([1]));
    // Temporary files: one left by a crash, one still being written.
    await Deno.writeFile(join(sharedDir, "x.safetensors.00aa.partial"), new Uint8Array([1]));
    await age("x.safetensors.00aa.partial", 2);
    await Deno.writeFile(join(sharedDir, "y.safetensors.00bb.partial"), new Uint8Array([1]));

    // The single-process clean-up at open never touches a shared folder.
    store.close();
    store = SqliteStore.open({ dataDir, modules: [OWNERS], blobs });
    tensors = store.tensors;
    assert.deepEqual(store.reclaimedAtOpen, { unowned: 0, strays: 0 });
    assert.equal([...Deno.readDirSync(sharedDir)].length, 7);

    const reclaimed = await reclaimAfterOpen(store.db, store.tensors.blobs, 3600);
    assert.deepEqual(reclaimed, { unowned: 1, strays: 1 });
    assert.equal(tensors.info(abandoned.id), null);
    assert.ok(tensors.info(justCommitted.id) !== null, "a fresh row waits for its owner");
    assert.deepEqual((await tensors.get(owned.id)).tensors.get("x")?.shape, [2]);
    const left = [...Deno.readDirSync(sharedDir)].map((e) => e.name).sort();
    assert.deepEqual(
      left,
      [
        `${justCommitted.id}.safetensors`,
        `${owned.id}.safetensors`,
        "uploading.safetensors",
        "y.safetensors.00bb.partial",
      ].sort(),
    );
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(sharedDir, { recursive: true });
  }
});

Deno.test("a shared folder: nothing written since a running job started is reclaimed", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-gc-running-" });
  const sharedDir = await Deno.makeTempDir({ prefix: "simfluence-gc-nfs-" });
  const blobs = new DirectoryBlobStore(sharedDir, true);
  const store = SqliteStore.open({ dataDir, modules: [OWNERS], blobs });
  try {
    const hoursAgo = (h: number) => Date.now() - h * 3600_000;
    // A training job started 5 hours ago (on some node) whose checkpoints have no owner yet,
    // and an abandoned file from before it started.
    const job = store.jobs.create({ id: "j-running", kind: "training-runs", input: {} });
    store.jobs.update(job.id, {
      status: "running",
      startedAt: new Date(hoursAgo(5)).toISOString(),
    });
    const checkpoint = await store.tensors.put(tensor());
    const abandoned = await store.tensors.put(tensor());
    store.db.prepare("UPDATE tensor_files SET created_at = ? WHERE id = ?").run(
      hoursAgo(3),
      checkpoint.id,
    );
    store.db.prepare("UPDATE tensor_files SET created_at = ? WHERE id = ?").run(
      hoursAgo(6),
      abandoned.id,
    );
    const reclaimed = await reclaimAfterOpen(store.db, store.tensors.blobs, 3600);
    assert.equal(reclaimed.unowned, 1);
    assert.equal(store.tensors.info(abandoned.id), null);
    assert.ok(store.tensors.info(checkpoint.id) !== null, "the running job's checkpoint stays");
    // Once the job has finished, the grace period alone decides.
    store.jobs.update(job.id, { status: "failed", finishedAt: new Date().toISOString() });
    assert.equal((await reclaimAfterOpen(store.db, store.tensors.blobs, 3600)).unowned, 1);
    assert.equal(store.tensors.info(checkpoint.id), null);
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(sharedDir, { recursive: true });
  }
});
