// The cluster's costs next to one process's, measured in the same run (`deno task bench --suite
// cluster`; it starts a throwaway PostgreSQL and real service processes, so it runs only when
// named). Three nodes (n1 api, n2 and n3 workers) over one database and one shared blob folder,
// against one SQLite process:
// - job pickup: a job's startedAt − createdAt (submitted on n1, taken by a worker through pg-boss;
//   one process: its in-process queue);
// - event latency: a job's progress update (its updatedAt, on the worker) → received by a watcher
//   on n1, another node (one process: a watcher on it);
// - a simulation started on n2 (it computes what it takes) → its first step read on n1, through
//   the events table and the bus (one process: started and watched on it);
// - run uploads per second, 4 clients, into PostgreSQL (n1) and into SQLite;
// - a worker's death (SIGKILL) → its job running again on the other worker (after the queue's
//   heartbeat, SIMFLUENCE_JOB_HEARTBEAT_SECONDS=10, its minimum); one process: killed, started
//   again and the job resumed by hand (POST /v1/jobs/:id/resume) at once.
// Every figure is a median of its samples unless it says p99.
import { takeEventBlocks } from "./sse_blocks.ts";
import { syntheticStudy } from "./load.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";
import { TestCluster } from "../tests/helpers/cluster.ts";
import { ServiceProcess } from "../tests/helpers/service_process.ts";
import { PostgresDatabase } from "../src/store/sql/postgres_database.ts";

export interface ClusterBenchSizes {
  /** Fit jobs timed for pickup, on each side. */
  pickups: number;
  /** Run uploads timed on each side. */
  uploads: number;
  /** The shape of the study whose λ sweep gives progress events (and a job to kill). */
  sweepStudy: { n: number; m: number; runs: number; steps: number };
  /** Whether to measure a worker's death (the slowest figure: a heartbeat). */
  death: boolean;
}

export const DEFAULT_SIZES: ClusterBenchSizes = {
  pickups: 20,
  uploads: 200,
  sweepStudy: { n: 400, m: 64, runs: 10, steps: 80 },
  death: true,
};

const QUICK_SIZES: ClusterBenchSizes = {
  pickups: 8,
  uploads: 60,
  sweepStudy: { n: 200, m: 32, runs: 8, steps: 60 },
  death: true,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** A side of the comparison: where to submit, where to watch from, where to upload. */
interface Side {
  name: string;
  submit: ServiceProcess;
  watch: ServiceProcess;
}

async function uploadRuns(node: ServiceProcess, bodies: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await node.api("POST", "/v1/runs", body);
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
    ids.push(res.body.id);
  }
  return ids;
}

async function submitFit(
  node: ServiceProcess,
  study: string,
  runs: string[],
  lambda: number | "auto",
): Promise<string> {
  const res = await node.api("POST", "/v1/simulators", {
    study,
    kind: "linear",
    trainRuns: runs,
    lambda,
  });
  if (res.status !== 202) throw new Error(`fit: ${res.status} ${res.text}`);
  return res.body.job;
}

/** startedAt − createdAt of `count` small fits, one after another; and the last simulator. */
async function pickupLatencies(side: Side, count: number) {
  const study = `pickup-${side.name}`;
  const { bodies, trainIds } = syntheticStudy(study);
  const runs = await uploadRuns(side.submit, bodies);
  const latencies: number[] = [];
  let simulator = "";
  for (let i = 0; i < count; i++) {
    const res = await side.submit.api("POST", "/v1/simulators", {
      study,
      kind: "linear",
      trainRuns: runs,
      lambda: 0.1,
    });
    if (res.status !== 202) throw new Error(`fit: ${res.status} ${res.text}`);
    const record = await side.submit.waitJob(res.body.job, undefined, 120_000);
    if (record.status !== "succeeded") throw new Error(`pickup fit ${record.status}`);
    latencies.push(Date.parse(record.startedAt) - Date.parse(record.createdAt));
    simulator = res.body.simulator.id;
  }
  return { latencies, simulator, trainIds };
}

/**
 * POST /v1/simulations on `start` → its first `step` event read on `watch` (in a cluster another
 * node: through the events table and the bus), `count` times.
 */
async function simulationLatencies(
  start: ServiceProcess,
  watch: ServiceProcess,
  fitted: { simulator: string; trainIds: string[] },
  count: number,
): Promise<number[]> {
  const curriculum = Array.from({ length: 50 }, (_, t) => [
    fitted.trainIds[t % fitted.trainIds.length],
  ]);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const res = await start.api("POST", "/v1/simulations", {
      simulator: fitted.simulator,
      curriculum,
      chunkSteps: 1,
    });
    if (res.status !== 202) throw new Error(`simulation: ${res.status} ${res.text}`);
    const stream = await fetch(`${watch.url}${res.body.events}`, {
      signal: AbortSignal.timeout(60_000),
    });
    let text = "";
    let firstStep: number | null = null;
    for await (const chunk of stream.body!.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (firstStep === null && text.includes("event: step")) firstStep = performance.now();
    }
    if (firstStep === null || !text.includes("event: done")) throw new Error("no steps or done");
    latencies.push(firstStep - started);
  }
  return latencies;
}

/** Progress updates of a λ sweep, each from its updatedAt to a watcher on `side.watch`. */
async function eventLatencies(side: Side, runs: string[], study: string): Promise<number[]> {
  const job = await submitFit(side.submit, study, runs, "auto");
  const res = await fetch(`${side.watch.url}/v1/jobs/${job}/events`, {
    signal: AbortSignal.timeout(300_000),
  });
  if (res.status !== 200 || !res.body) throw new Error(`watch: ${res.status}`);
  const latencies: number[] = [];
  let buffered = "";
  let finished = false;
  let progressEvents = 0;
  for await (const text of res.body.pipeThrough(new TextDecoderStream())) {
    const received = Date.now();
    const { blocks, rest } = takeEventBlocks(buffered, text);
    buffered = rest;
    for (const block of blocks.split("\n\n")) {
      const event = /^event: (\w+)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === "progress" && data) {
        // The first event is the current state at connection time, not a delivery.
        if (progressEvents++ > 0) latencies.push(received - Date.parse(JSON.parse(data).updatedAt));
      } else if (event === "done" || event === "failed" || event === "cancelled") {
        finished = true;
      }
    }
  }
  if (!finished) throw new Error("the watched job did not finish");
  return latencies;
}

/** Uploads per second with 4 clients. */
async function uploadsPerSecond(node: ServiceProcess, count: number, tag: string) {
  const template = syntheticStudy(`uploads-${tag}`).bodies[0] as Record<string, unknown>;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < count) {
      const i = next++;
      const res = await node.api("POST", "/v1/runs", { ...template, name: `u-${i}` });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
    }
  }));
  return count / ((performance.now() - started) / 1000);
}

/** Waits until `check` answers a value (polled every 50 ms); its value. */
async function poll<T>(check: () => T | null | Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(50);
  }
}

/** Cluster: SIGKILL to the worker running a λ sweep → the job running on the other worker. */
async function clusterDeathToResume(
  cluster: TestCluster,
  runs: string[],
  study: string,
): Promise<number> {
  const db = await PostgresDatabase.connect({ url: cluster.databaseUrl });
  try {
    const job = await submitFit(cluster.node("n1"), study, runs, "auto");
    const nodeOf = () => {
      const row = db.prepare("SELECT node, status FROM jobs WHERE id = ?").get(job);
      return row?.status === "running" && row.node ? String(row.node) : null;
    };
    const victim = await poll(nodeOf, 60_000);
    await cluster.kill(victim);
    const killed = performance.now();
    await poll(() => {
      const node = nodeOf();
      return node !== null && node !== victim ? node : null;
    }, 180_000);
    const seconds = (performance.now() - killed) / 1000;
    const record = await cluster.node("n1").waitJob(job, undefined, 300_000);
    if (record.status !== "succeeded") throw new Error(`resumed job ${record.status}`);
    await cluster.startNode(victim);
    return seconds;
  } finally {
    db.close();
  }
}

/** One process: SIGKILL mid-sweep, start again, resume by hand → the new job running. */
async function singleDeathToResume(
  node: ServiceProcess,
  runs: string[],
  study: string,
): Promise<{ seconds: number; node: ServiceProcess }> {
  const job = await submitFit(node, study, runs, "auto");
  await node.waitJob(job, (j) => j.status === "running", 60_000);
  await node.kill();
  const killed = performance.now();
  const again = await ServiceProcess.start({ dataDir: node.dataDir });
  const resumed = await again.api("POST", `/v1/jobs/${job}/resume`);
  if (resumed.status !== 202) throw new Error(`resume: ${resumed.status} ${resumed.text}`);
  await again.waitJob(resumed.body.job, (j) => j.status === "running", 60_000);
  const seconds = (performance.now() - killed) / 1000;
  await again.waitJob(resumed.body.job, undefined, 300_000);
  return { seconds, node: again };
}

const ms = (x: number) => Math.round(x * 10) / 10;

function timeRow(name: string, ours: number, baseline: number, unit = "ms"): BenchFigure {
  return {
    name,
    unit,
    value: ms(ours),
    baselineName: "one process (SQLite)",
    baseline: ms(baseline),
    speedup: ours > 0 ? baseline / ours : null,
  };
}

export async function runClusterBench(sizes: ClusterBenchSizes): Promise<BenchFigure[]> {
  const root = await Deno.makeTempDir({ prefix: "simfluence-bench-cluster-" });
  let single: ServiceProcess | null = await ServiceProcess.start({ dataDir: `${root}/single` });
  let cluster: TestCluster | null = null;
  try {
    cluster = await TestCluster.start({
      nodes: [{ id: "n1", role: "api" }, { id: "n2", role: "worker" }, {
        id: "n3",
        role: "worker",
      }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    const n1 = cluster.node("n1");
    const clusterSide: Side = { name: "cluster", submit: n1, watch: n1 };
    const singleSide: Side = { name: "single", submit: single, watch: single };

    const fittedCluster = await pickupLatencies(clusterSide, sizes.pickups);
    const fittedSingle = await pickupLatencies(singleSide, sizes.pickups);
    const pickCluster = fittedCluster.latencies;
    const pickSingle = fittedSingle.latencies;
    // A simulation computes on the node that took it (n2), its watcher is on n1.
    const simulationCluster = await simulationLatencies(
      cluster.node("n2"),
      n1,
      fittedCluster,
      sizes.pickups,
    );
    const simulationSingle = await simulationLatencies(single, single, fittedSingle, sizes.pickups);

    const sweep = syntheticStudy("sweep", sizes.sweepStudy).bodies;
    const sweepCluster = await uploadRuns(n1, sweep);
    const sweepSingle = await uploadRuns(single, sweep);
    const eventsCluster = await eventLatencies(clusterSide, sweepCluster, "sweep");
    const eventsSingle = await eventLatencies(singleSide, sweepSingle, "sweep");

    const uploadsPg = await uploadsPerSecond(n1, sizes.uploads, "pg");
    const uploadsSqlite = await uploadsPerSecond(single, sizes.uploads, "sqlite");

    const figures: BenchFigure[] = [
      timeRow("cluster job pickup p50", quantile(pickCluster, 0.5), quantile(pickSingle, 0.5)),
      timeRow("cluster job pickup p99", quantile(pickCluster, 0.99), quantile(pickSingle, 0.99)),
      timeRow(
        "cluster event latency p50 (worker → watcher on another node)",
        quantile(eventsCluster, 0.5),
        quantile(eventsSingle, 0.5),
      ),
      timeRow(
        "cluster event latency p99 (worker → watcher on another node)",
        quantile(eventsCluster, 0.99),
        quantile(eventsSingle, 0.99),
      ),
      timeRow(
        "cluster simulation start → first step on another node p50",
        quantile(simulationCluster, 0.5),
        quantile(simulationSingle, 0.5),
      ),
      {
        name: "run uploads, PostgreSQL (4 clients)",
        unit: "runs/s",
        value: ms(uploadsPg),
        baselineName: "SQLite",
        baseline: ms(uploadsSqlite),
        speedup: uploadsPg / uploadsSqlite,
        notes: `${sizes.uploads} uploads each`,
      },
    ];
    figures[2].notes = `${eventsCluster.length} vs ${eventsSingle.length} progress events`;
    if (sizes.death) {
      const deathCluster = await clusterDeathToResume(cluster, sweepCluster, "sweep");
      const deathSingle = await singleDeathToResume(single, sweepSingle, "sweep");
      single = deathSingle.node;
      figures.push({
        ...timeRow("worker death → job running elsewhere", deathCluster, deathSingle.seconds, "s"),
        baselineName: "one process restarted + resumed by hand",
        notes: "cluster: automatic, after the queue's 10 s heartbeat expires",
      });
    }
    return figures;
  } finally {
    await cluster?.close();
    await single?.kill();
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

export const clusterSuite: BenchSuite = {
  name: "cluster",
  // Starts PostgreSQL and four service processes: only when asked for.
  onlyWhenNamed: true,
  run: (_rt, { quick }) => runClusterBench(quick ? QUICK_SIZES : DEFAULT_SIZES),
};
