// Load across three real nodes (one PostgreSQL, one shared blob folder): 300 SSE watchers spread
// evenly over the nodes, first all on one job (a simulator fit started on node 2 and run by
// whichever worker takes it), then all on simulations (one started on each node, each watched from
// all three). /healthz is probed on every node throughout, from threads of their own, and its p99
// printed.
//
// A simulation's stream is a log: every watcher must get every event once, in order (ids 0…n).
// A job's stream is a snapshot stream by design (routes/jobs.ts: a slow reader gets only the latest
// progress), so every watcher must get ids in order and the same final `done` event; how many
// progress updates each saw is printed.
import assert from "node:assert/strict";
import { takeEventBlocks } from "../../bench/sse_blocks.ts";
import { fittedSimulator, syntheticStudy } from "../../bench/load.ts";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import type { ServiceProcess } from "../helpers/service_process.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";
const WATCHERS = 300;
const SIMULATION_STEPS = 200;

interface Received {
  status: number;
  ids: number[];
  events: string[];
  /** The last event's data, as sent. */
  lastData: string;
}

/** Reads an SSE stream to its end: every event's id and name, in order. */
async function readAll(url: string, timeoutMs: number): Promise<Received> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const received: Received = { status: res.status, ids: [], events: [], lastData: "" };
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return received;
  }
  let buffered = "";
  for await (const text of res.body.pipeThrough(new TextDecoderStream())) {
    const { blocks, rest } = takeEventBlocks(buffered, text);
    buffered = rest;
    for (const block of blocks.split("\n\n")) {
      let id: number | null = null;
      let event: string | null = null;
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) id = Number(line.slice(4));
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data = line.slice(6);
      }
      if (event === null) continue;
      received.ids.push(id ?? NaN);
      received.events.push(event);
      received.lastData = data;
    }
  }
  return received;
}

/**
 * Probes GET /healthz on each node from a thread per node (once each has warmed up); the returned
 * function stops them and gives the latencies.
 */
async function probeHealth(nodes: ServiceProcess[]) {
  const workers = nodes.map(() =>
    new Worker(new URL("../../bench/load_probe_worker.ts", import.meta.url), { type: "module" })
  );
  const ready: Promise<void>[] = [];
  const results = workers.map((worker, i) =>
    new Promise<{ latencies: number[]; failures: number }>((resolve) => {
      ready.push(
        new Promise<void>((warmedUp) => {
          worker.onmessage = (m) => m.data === "ready" ? warmedUp() : resolve(m.data);
        }),
      );
      worker.postMessage({ url: `${nodes[i].url}/healthz`, intervalMs: 20 });
    })
  );
  await Promise.all(ready);
  return async () => {
    for (const worker of workers) worker.postMessage("stop");
    const all = await Promise.all(results);
    for (const worker of workers) worker.terminate();
    const latencies = all.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const q = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    return {
      probes: latencies.length,
      failures: all.reduce((n, r) => n + r.failures, 0),
      p50Ms: Math.round(q(0.5) * 10) / 10,
      p99Ms: Math.round(q(0.99) * 10) / 10,
      maxMs: Math.round(latencies.at(-1)! * 10) / 10,
    };
  };
}

const strictlyIncreasing = (ids: number[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]);
const nonDecreasing = (ids: number[]) => ids.every((id, i) => i === 0 || id >= ids[i - 1]);

Deno.test({
  name: "load: 300 SSE watchers over 3 nodes on one job and on simulations; /healthz p99",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const started = performance.now();
    const cluster = await TestCluster.start({
      nodes: [{ id: "n1" }, { id: "n2" }, { id: "n3" }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const nodes = ["n1", "n2", "n3"].map((id) => cluster.node(id));
      const [n1, n2] = nodes;
      const prepared = await fittedSimulator(n1.url);
      const study = syntheticStudy("load-job", { n: 200, m: 32, runs: 8, steps: 60 });
      const runIds: string[] = [];
      for (const body of study.bodies) {
        const res = await n1.api("POST", "/v1/runs", body);
        assert.equal(res.status, 201, res.text);
        runIds.push(res.body.id);
      }
      let stopProbes = await probeHealth(nodes);
      const setUpSeconds = (performance.now() - started) / 1000;

      // One job, 300 watchers: started on node 2, watched from all three.
      const fit = await n2.api("POST", "/v1/simulators", {
        study: "load-job",
        kind: "linear",
        trainRuns: runIds,
        lambda: "auto",
      });
      assert.equal(fit.status, 202, fit.text);
      const jobUrl = (w: number) => `${nodes[w % 3].url}/v1/jobs/${fit.body.job}/events`;
      const jobWatchers = await Promise.all(
        Array.from({ length: WATCHERS }, (_, w) => readAll(jobUrl(w), 120_000)),
      );
      const finals = new Set<string>();
      for (const [w, r] of jobWatchers.entries()) {
        assert.equal(r.status, 200, `job watcher ${w}`);
        assert.equal(r.events.at(-1), "done", `job watcher ${w}: ${r.events.join(",")}`);
        assert.ok(nonDecreasing(r.ids), `job watcher ${w} ids in order: ${r.ids}`);
        finals.add(r.lastData);
      }
      assert.equal(finals.size, 1, "every watcher got the same final job record");
      const progressSeen = jobWatchers.map((r) => r.events.filter((e) => e === "progress").length)
        .sort((a, b) => a - b);

      const healthzDuringJob = await stopProbes();
      stopProbes = await probeHealth(nodes);

      // Simulations: one started on each node, 100 watchers each, spread over the three nodes.
      const curriculum = Array.from(
        { length: SIMULATION_STEPS },
        (_, t) => [prepared.trainIds[t % prepared.trainIds.length]],
      );
      const simulations: string[] = [];
      for (const node of nodes) {
        const res = await node.api("POST", "/v1/simulations", {
          simulator: prepared.simulator,
          curriculum,
          chunkSteps: 5,
        });
        assert.equal(res.status, 202, res.text);
        simulations.push(res.body.id);
      }
      const simulationWatchers = await Promise.all(
        Array.from({ length: WATCHERS }, (_, w) => {
          const simulation = simulations[w % 3];
          const node = nodes[Math.floor(w / 3) % 3];
          return readAll(`${node.url}/v1/simulations/${simulation}/events`, 120_000);
        }),
      );
      const expectedEvents = SIMULATION_STEPS + 2; // meta, the steps, done
      for (const [w, r] of simulationWatchers.entries()) {
        assert.equal(r.status, 200, `simulation watcher ${w}`);
        assert.deepEqual(
          r.ids,
          Array.from({ length: expectedEvents }, (_, i) => i),
          `simulation watcher ${w}: every event once, in order`,
        );
        assert.equal(r.events[0], "meta");
        assert.equal(r.events.at(-1), "done");
        assert.ok(strictlyIncreasing(r.ids));
      }
      const healthzDuringSimulations = await stopProbes();
      const figures = {
        nodes: 3,
        watchers: WATCHERS,
        jobProgressSeenPerWatcher: {
          min: progressSeen[0],
          median: progressSeen[Math.floor(progressSeen.length / 2)],
          max: progressSeen.at(-1),
        },
        simulationEventsPerWatcher: expectedEvents,
        healthzDuringJob,
        healthzDuringSimulations,
        setUpSeconds: Math.round(setUpSeconds),
        loadSeconds: Math.round((performance.now() - started) / 1000 - setUpSeconds),
      };
      console.log(`cluster load figures: ${JSON.stringify(figures)}`);
      for (const healthz of [healthzDuringJob, healthzDuringSimulations]) {
        assert.ok(healthz.probes > 50, `${healthz.probes} probes`);
        assert.equal(healthz.failures, 0);
        assert.ok(healthz.p99Ms < 2_000, `/healthz p99 ${healthz.p99Ms} ms`);
      }
    } catch (e) {
      console.error(cluster.logs().slice(-6_000));
      throw e;
    } finally {
      await cluster.close();
    }
  },
});
