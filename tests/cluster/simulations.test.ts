// Simulations across nodes on a real PostgreSQL (two nodes in this process, each with its own
// store connection, bus and app): started on node A, listed, watched and replayed on node B with
// `id:` and Last-Event-ID, cancelled from node B, cancelled when unwatched cluster-wide but not
// while another node watches, a dead node's simulation ended with node_lost, rows expired after
// the replay window, and each node's limit on simulations computing at once kept per node.
import assert from "node:assert/strict";
import { PostgresBus } from "../../src/cluster/bus.ts";
import { ClusterSimulations } from "../../src/cluster/simulations.ts";
import { CLUSTER_SIMULATIONS } from "../../src/cluster/simulation_log_store.ts";
import { memoryLogger } from "../../src/log.ts";
import type { SimulationEvent, SimulationPlan } from "../../src/simfluence/simulation.ts";
import type { SimulationRegistryOptions } from "../../src/simfluence/simulation_registry.ts";
import { PostgresStore } from "../../src/store/postgres.ts";
import { parseSse, testApp, until } from "../helpers/app.ts";
import { freshDatabase, postgresAvailable } from "../helpers/postgres.ts";

const skip = !postgresAvailable;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function planOf(steps: number) {
  return {
    sim: { record: { id: "sim-1" } },
    batches: Array(steps).fill([0]),
  } as unknown as SimulationPlan;
}

function pacedEvents(intervalMs: number) {
  return async function* (
    _rt: unknown,
    plan: SimulationPlan,
    signal?: AbortSignal,
  ): AsyncGenerator<SimulationEvent[]> {
    yield [{ event: "meta", data: { steps: plan.batches.length } }];
    for (let t = 1; t <= plan.batches.length; t++) {
      if (intervalMs > 0) await sleep(intervalMs);
      signal?.throwIfAborted();
      yield [{ event: "step", data: { t } }];
    }
    yield [{ event: "done", data: {} }];
  };
}

const ids = (text: string) => [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));

interface NodeOptions {
  registry?: Omit<SimulationRegistryOptions, "observer">;
  ttlMs?: number;
  lostAfterMs?: number;
  heartbeatMs?: number;
}

async function startNode(url: string, name: string, options: NodeOptions = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-node-" });
  const store = await PostgresStore.open({ url, dataDir, modules: [CLUSTER_SIMULATIONS] });
  const logger = memoryLogger();
  const bus = await PostgresBus.open(url, store.db, logger);
  const simulations = new ClusterSimulations({
    log: store.get(CLUSTER_SIMULATIONS),
    bus,
    node: name,
    logger,
    ...options,
  });
  const ctx = await testApp({ streaming: { simulations } });
  let closed = false;
  return {
    simulations,
    store,
    app: ctx.app,
    async close() {
      if (closed) return;
      closed = true;
      simulations.shutdown();
      await sleep(20);
      await bus.close();
      store.close();
      await ctx.close();
      await Deno.remove(dataDir, { recursive: true });
    },
    /** As a process killed: its connections go first, so nothing more reaches the database. */
    async kill() {
      if (closed) return;
      closed = true;
      store.close();
      await bus.close();
      simulations.shutdown();
      await ctx.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

async function twoNodes(a: NodeOptions, b: NodeOptions = {}) {
  const url = freshDatabase();
  return [await startNode(url, "node-a", a), await startNode(url, "node-b", b)] as const;
}

Deno.test({
  name: "cluster simulations: started on A, listed, watched and replayed on B",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({ registry: { events: pacedEvents(5) } });
    try {
      const { id } = a.simulations.start(null, planOf(40));
      const page = await (await b.app.request("/v1/simulations")).json();
      assert.equal(page.total, 1);
      assert.equal(page.simulations[0].id, id);
      assert.equal(page.simulations[0].status, "running");

      // Watched live on B from the start: every event once, in order, ids 0…41.
      const live = await (await b.app.request(`/v1/simulations/${id}/events`)).text();
      assert.deepEqual(ids(live), Array.from({ length: 42 }, (_, i) => i));
      const events = parseSse(live);
      assert.deepEqual(events.map((e) => e.event), ["meta", ...Array(40).fill("step"), "done"]);
      assert.deepEqual(events.slice(1, -1).map((e) => JSON.parse(e.data).t), [
        ...Array.from({ length: 40 }, (_, i) => i + 1),
      ]);

      const status = await (await b.app.request(`/v1/simulations/${id}`)).json();
      assert.equal(status.status, "done");
      assert.equal(status.steps, 40);
      assert.equal(status.events, 42);
      assert.ok(status.finishedAt);

      // Replay after the end, on either node, from Last-Event-ID.
      const resumed = await (await b.app.request(`/v1/simulations/${id}/events`, {
        headers: { "Last-Event-ID": "37" },
      })).text();
      assert.deepEqual(ids(resumed), [38, 39, 40, 41]);
      assert.deepEqual(ids(await (await a.app.request(`/v1/simulations/${id}/events`)).text()), [
        ...Array.from({ length: 42 }, (_, i) => i),
      ]);
      const seenAll = await b.app.request(`/v1/simulations/${id}/events`, {
        headers: { "Last-Event-ID": "41" },
      });
      assert.equal(seenAll.status, 204);
      assert.equal((await b.app.request("/v1/simulations/nope/events")).status, 404);

      // Forgotten from B: gone everywhere.
      assert.equal(
        (await b.app.request(`/v1/simulations/${id}`, { method: "DELETE" })).status,
        204,
      );
      assert.equal((await a.app.request(`/v1/simulations/${id}`)).status, 404);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "cluster simulations: a watcher on B that joins mid-way, with Last-Event-ID, misses nothing",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({ registry: { events: pacedEvents(10) } });
    try {
      const { id } = a.simulations.start(null, planOf(60));
      await until(() => a.simulations.status(id)!.events >= 10);
      const res = await b.app.request(`/v1/simulations/${id}/events`, {
        headers: { "Last-Event-ID": "4" },
      });
      const got = ids(await res.text());
      assert.deepEqual(got, Array.from({ length: 62 - 5 }, (_, i) => i + 5));
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: DELETE on B cancels the one running on A; watchers see `cancelled`",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({ registry: { events: pacedEvents(10) } });
    try {
      const { id } = a.simulations.start(null, planOf(100_000));
      const watching = b.app.request(`/v1/simulations/${id}/events`);
      await until(() => (b.simulations.status(id)?.watchers ?? 0) === 1);
      const cancel = await b.app.request(`/v1/simulations/${id}`, { method: "DELETE" });
      assert.equal(cancel.status, 202);
      assert.equal((await cancel.json()).status, "running");
      const events = parseSse(await (await watching).text());
      assert.equal(events.at(-1)!.event, "cancelled");
      assert.deepEqual(JSON.parse(events.at(-1)!.data), { reason: "deleted" });
      assert.equal(b.simulations.status(id)!.status, "cancelled");
      assert.ok(b.simulations.status(id)!.steps < 100_000);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: kept running while only another node watches; cancelled once none do",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({
      registry: { events: pacedEvents(10), unwatchedGraceMs: 1_500 },
    });
    try {
      const never = a.simulations.start(null, planOf(100_000)).id;
      const watched = a.simulations.start(null, planOf(100_000)).id;
      const controller = new AbortController();
      const res = await b.app.request(`/v1/simulations/${watched}/events`, {
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      await until(() => a.simulations.status(never)!.status === "cancelled", 8_000);
      await sleep(500);
      assert.equal(a.simulations.status(watched)!.status, "running");
      assert.equal(a.simulations.status(watched)!.watchers, 1);
      await reader.cancel();
      await until(() => a.simulations.status(watched)!.status === "cancelled", 8_000);
      const replay = parseSse(
        await (await b.app.request(`/v1/simulations/${watched}/events`)).text(),
      );
      assert.deepEqual(JSON.parse(replay.at(-1)!.data), { reason: "unwatched" });
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: watchers on a node that died stop counting; the simulation is let go",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes(
      {
        registry: { events: pacedEvents(10), unwatchedGraceMs: 1_500 },
        lostAfterMs: 600,
        heartbeatMs: 100,
      },
      { heartbeatMs: 50 },
    );
    try {
      const { id } = a.simulations.start(null, planOf(100_000));
      const res = await b.app.request(`/v1/simulations/${id}/events`);
      const reader = res.body!.getReader();
      await reader.read();
      await until(() => a.simulations.status(id)!.watchers === 1);
      await sleep(800);
      // B keeps confirming its watcher: still counted, still running.
      assert.equal(a.simulations.status(id)!.watchers, 1);
      assert.equal(a.simulations.status(id)!.status, "running");
      // B dies with its watcher connected (its row says 1 for ever).
      await b.kill();
      await reader.cancel().catch(() => {});
      await until(() => a.simulations.status(id)!.status === "cancelled", 10_000);
      assert.equal(a.simulations.status(id)!.watchers, 0);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: the limit on simulations computing at once is per node",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes(
      { registry: { events: pacedEvents(10), maxRunning: 1 } },
      { registry: { events: pacedEvents(10), maxRunning: 1, maxEntries: 1 } },
    );
    try {
      const running = a.simulations.start(null, planOf(100_000)).id;
      assert.throws(() => a.simulations.start(null, planOf(10)), /at most 1 at once/);
      // B computes its own.
      const { id } = b.simulations.start(null, planOf(3));
      await until(() => a.simulations.status(id)?.status === "done");
      assert.equal(a.simulations.list({ limit: 10, offset: 0 }).total, 2);
      // What a node streams at once is its own limit too (B allows one).
      const watch = b.simulations.watch(running)!;
      assert.throws(() => b.simulations.watch(id), /at most 1 at once/);
      const refused = await b.app.request(`/v1/simulations/${id}/events`);
      assert.equal(refused.status, 429);
      assert.equal((await refused.json()).error.code, "too_many_simulations_watched");
      // A streams its own and B's: its limit is its own.
      a.simulations.watch(id)!.close();
      watch.close();
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: a node that stops writing is taken as lost; watchers get node_lost",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes(
      { registry: { events: pacedEvents(10) }, heartbeatMs: 50 },
      { lostAfterMs: 1_000, heartbeatMs: 50 },
    );
    try {
      const { id } = a.simulations.start(null, planOf(100_000));
      const watching = b.app.request(`/v1/simulations/${id}/events`);
      await until(() => (b.simulations.status(id)?.events ?? 0) > 3);
      // Node A dies: nothing more reaches the database from it.
      await a.kill();
      const events = parseSse(await (await watching).text());
      assert.equal(events.at(-1)!.event, "error");
      assert.equal(JSON.parse(events.at(-1)!.data).code, "node_lost");
      assert.equal(b.simulations.status(id)!.status, "failed");
      // Every event id once, in order, the error last.
      const again = ids(await (await b.app.request(`/v1/simulations/${id}/events`)).text());
      assert.deepEqual(again, Array.from({ length: again.length }, (_, i) => i));
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: rows expire after the replay window",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({ registry: { events: pacedEvents(0) }, ttlMs: 200 }, {
      ttlMs: 200,
    });
    try {
      const { id } = a.simulations.start(null, planOf(3));
      await until(() => b.simulations.status(id)?.status === "done");
      assert.equal(b.simulations.list({ limit: 10, offset: 0 }).total, 1);
      await sleep(300);
      assert.equal(b.simulations.list({ limit: 10, offset: 0 }).total, 0);
      const left = a.store.db.prepare("SELECT COUNT(*) AS n FROM cluster_simulation_events").get();
      assert.equal(Number(left!.n), 0);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name:
    "cluster simulations: a start whose row cannot be written fails, and leaves nothing running",
  ignore: skip,
  async fn() {
    const [a, b] = await twoNodes({ registry: { events: pacedEvents(10), maxRunning: 1 } });
    try {
      a.store.db.exec(
        "ALTER TABLE cluster_simulations ADD CONSTRAINT refuse_sim1 CHECK (simulator <> 'sim-1')",
      );
      assert.throws(() => a.simulations.start(null, planOf(100_000)), /refuse_sim1/);
      assert.equal(b.simulations.list({ limit: 10, offset: 0 }).total, 0);
      a.store.db.exec("ALTER TABLE cluster_simulations DROP CONSTRAINT refuse_sim1");
      // The refused one stopped: the node's one slot is free again.
      await until(() => {
        try {
          a.simulations.start(null, planOf(3));
          return true;
        } catch {
          return false;
        }
      });
      assert.equal(b.simulations.list({ limit: 10, offset: 0 }).total, 1);
    } finally {
      await a.close();
      await b.close();
    }
  },
});

Deno.test({
  name: "cluster simulations: a batch of events larger than one INSERT arrives whole, in order",
  ignore: skip,
  async fn() {
    async function* oneBigBatch(): AsyncGenerator<SimulationEvent[]> {
      yield [{ event: "meta", data: {} }];
      yield Array.from({ length: 6_000 }, (_, i) => ({ event: "step" as const, data: { t: i } }));
      yield [{ event: "done", data: {} }];
    }
    const [a, b] = await twoNodes({
      registry: {
        events: oneBigBatch as unknown as NonNullable<NodeOptions["registry"]>["events"],
      },
    });
    try {
      const { id } = a.simulations.start(null, planOf(6_000));
      const text = await (await b.app.request(`/v1/simulations/${id}/events`)).text();
      assert.deepEqual(ids(text), Array.from({ length: 6_002 }, (_, i) => i));
      const steps = parseSse(text).filter((e) => e.event === "step").map((e) =>
        JSON.parse(e.data).t
      );
      assert.deepEqual(steps, Array.from({ length: 6_000 }, (_, i) => i));
    } finally {
      await a.close();
      await b.close();
    }
  },
});
