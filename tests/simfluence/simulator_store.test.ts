import assert from "node:assert/strict";
import type { FittedSimulator } from "../../src/simfluence/simulator_store.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { simulatorFiles } from "../helpers/simulator_files.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

async function withStore(fn: (store: SqliteStore) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-simstore-" });
  const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
  try {
    await fn(store);
  } finally {
    store.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

function fitted(): FittedSimulator {
  return {
    params: {
      kind: "linear",
      n: 2,
      m: 1,
      A: Float32Array.from([0.1, -0.2]),
      B: Float32Array.from([0.01, 0.02]),
      unseen: [],
      meanLoss: Float32Array.from([1.5]),
      lambdaFactor: 1e-2,
      scoreScale: null,
    },
    trainIds: ["e0", "e1"],
    initialLoss: Float32Array.from([2]),
    fit: { solver: "cpu-cg" },
  };
}

const create = (store: SqliteStore) =>
  store.get(SIMULATORS).create({
    study: "s",
    kind: "linear",
    trainRuns: ["r0"],
    validationRuns: [],
    lambda: "auto",
  });

Deno.test("simulator store: markReady stores the parameters of a fitting simulator", async () => {
  await withStore(async (store) => {
    const { id } = create(store);
    assert.equal(await store.get(SIMULATORS).markReady(id, fitted(), ["q0"]), true);
    assert.equal(store.get(SIMULATORS).get(id)!.status, "ready");
    const loaded = await store.get(SIMULATORS).load(id, ["q0"]);
    assert.deepEqual([...loaded.params.A], [...fitted().params.A]);
    assert.ok(simulatorFiles(store, id).length > 0);
    await store.get(SIMULATORS).delete(id);
    assert.deepEqual(simulatorFiles(store, id), []);
  });
});

Deno.test("simulator store: a cancelled simulator stays cancelled, no file left", async () => {
  await withStore(async (store) => {
    const { id } = create(store);
    store.get(SIMULATORS).markFinished(id, "cancelled", null);
    assert.equal(await store.get(SIMULATORS).markReady(id, fitted(), ["q0"]), false);
    assert.equal(store.get(SIMULATORS).get(id)!.status, "cancelled");
    assert.deepEqual(simulatorFiles(store, id), []);
  });
});

Deno.test("simulator store: a delete while the file is written leaves nothing", async () => {
  await withStore(async (store) => {
    const { id } = create(store);
    // markReady writes the file before it touches the row: the delete lands in between.
    const ready = store.get(SIMULATORS).markReady(id, fitted(), ["q0"]);
    assert.equal(await store.get(SIMULATORS).delete(id), true);
    assert.equal(await ready, false);
    assert.equal(store.get(SIMULATORS).get(id), null);
    assert.deepEqual(simulatorFiles(store, id), []);
  });
});
