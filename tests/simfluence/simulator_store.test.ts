import assert from "node:assert/strict";
import type { FittedSimulator } from "../../src/simfluence/simulator_store.ts";
import { simulatorFiles } from "../helpers/simulator_files.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";
import { openTestStore, type TestStore } from "../helpers/app.ts";

type AnyStore = TestStore;

/** On SQLite, or on PostgreSQL with SIMFLUENCE_TEST_DATABASE=postgres (the store suite). */
async function withStore(fn: (store: AnyStore) => Promise<void>): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-simstore-" });
  const store = await openTestStore(dataDir);
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

const create = (store: AnyStore) =>
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

Deno.test("simulator store: a record carries the unseen count and the first 20; pages hold all", async () => {
  await withStore(async (store) => {
    const simulators = store.get(SIMULATORS);
    const { id } = create(store);
    // Still fitting: nothing unseen yet, and an empty page.
    assert.deepEqual(simulators.get(id)!.unseenTrainExamples, { ids: [], total: 0 });
    assert.deepEqual(simulators.unseenPage(id, { limit: 10, offset: 0 }), {
      unseenTrainExamples: [],
      total: 0,
    });
    const n = 2_503;
    const trainIds = Array.from({ length: n }, (_, i) => `e${String(i).padStart(5, "0")}`);
    const unseen = trainIds.flatMap((_, i) => (i % 2 === 1 ? [i] : []));
    const params = {
      ...fitted().params,
      n,
      A: new Float32Array(n),
      B: new Float32Array(n),
      unseen,
    };
    assert.equal(await simulators.markReady(id, { ...fitted(), params, trainIds }, ["q0"]), true);
    const record = simulators.get(id)!;
    const unseenIds = unseen.map((i) => trainIds[i]);
    assert.deepEqual(record.unseenTrainExamples, { ids: unseenIds.slice(0, 20), total: 1_251 });
    assert.ok(JSON.stringify(record).length < 2_000, "the record does not inline the list");
    assert.deepEqual(simulators.list({ limit: 10, offset: 0 }).simulators[0], record);

    const paged: string[] = [];
    for (let offset = 0;; offset += 500) {
      const page = simulators.unseenPage(id, { limit: 500, offset });
      assert.equal(page.total, 1_251);
      paged.push(...page.unseenTrainExamples);
      if (page.unseenTrainExamples.length < 500) break;
    }
    assert.deepEqual(paged, unseenIds);
    // The loaded parameters still know which rows are unseen.
    const loaded = await simulators.load(id, ["q0"]);
    assert.deepEqual(loaded.params.unseen, unseen);
  });
});
