// `deno task load [--watchers N] [--starters N] [--steps N] [--no-fit] [--json]`: a load test of
// the service, started here as a child process (main.ts on a fresh data directory and a free port):
// N watchers (500) stream GET /v1/simulations/:id/events while `starters` clients (50) start
// simulations (honouring 429 + Retry-After), run uploads go on, a simulator fit (λ "auto") runs on
// the GPU, and /healthz is probed throughout from a thread of its own. Prints the figures (and JSON
// with --json). tests/platform/http_load.test.ts runs a smaller load (100 watchers, 10 starters).
import { takeEventBlocks } from "./sse_blocks.ts";
import { generateRuns, randomModel } from "../src/simfluence/math/synthetic.ts";

export interface LoadOptions {
  baseUrl: string;
  /** A write token, when the service requires one. */
  token?: string;
  simulator: string;
  trainIds: string[];
  watchers: number;
  starters: number;
  /** Steps of each simulated curriculum. */
  steps: number;
  chunkSteps: number;
  /** A run upload body for the i-th upload (a study of its own, so it disturbs no simulator). */
  uploadBody: (i: number) => unknown;
  /** Concurrent upload loops. */
  uploaders: number;
  healthzIntervalMs: number;
  /** Each watcher waits up to this long (uniformly at random) before opening its next stream. */
  connectJitterMs: number;
  /** Resident memory of the service now, in bytes. */
  rss: () => number;
  /** Other work started with the load (a GPU fit); the probes go on until it is done too. */
  background?: () => Promise<unknown>;
}

export interface LoadFigures {
  watchers: number;
  starters: number;
  stepsPerSimulation: number;
  /** Most event streams open at once (each watcher keeps one open while simulations run). */
  peakOpenStreams: number;
  /** Streams read to their end, and those that saw meta, every step 1..T in order, and done. */
  watchSessions: number;
  sessionsComplete: number;
  /** Watchers all of whose streams were complete (and that read at least one). */
  watchersComplete: number;
  /** Simulations that at least one complete stream covered. */
  simulationsWatched: number;
  /** Step events missing or out of order, over all streams. */
  stepsMissing: number;
  eventsReceived: number;
  /** 429s the starters got, how many lacked Retry-After, and the longest wait asked. */
  rateLimited: number;
  retryAfterMissing: number;
  retryAfterMaxSeconds: number;
  uploads: number;
  uploadFailures: number;
  /** Responses ≥ 500 anywhere (streams, starts, uploads, probes). */
  serverErrors: number;
  healthz: { probes: number; p50Ms: number; p99Ms: number; maxMs: number; failures: number };
  peakRssMiB: number;
  /** Seconds the background work took (null without any). */
  backgroundSeconds: number | null;
  wallSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const round = (x: number) => Math.round(x * 10) / 10;

/** Reads one watcher's stream to its end; which steps arrived, in order, and whether it finished. */
async function watch(
  url: string,
  headers: HeadersInit,
  steps: number,
  streams: { open: number; peak: number },
): Promise<{ status: number; complete: boolean; missing: number; events: number }> {
  const res = await fetch(url, { headers });
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { status: res.status, complete: false, missing: steps, events: 0 };
  }
  streams.open++;
  streams.peak = Math.max(streams.peak, streams.open);
  try {
    return await readStream(res.body, steps, res.status);
  } finally {
    streams.open--;
  }
}

async function readStream(
  body: ReadableStream<Uint8Array>,
  steps: number,
  status: number,
): Promise<{ status: number; complete: boolean; missing: number; events: number }> {
  let buffered = "";
  let expected = 1;
  let missing = 0;
  let events = 0;
  let sawMeta = false;
  let sawDone = false;
  // One regular-expression pass per chunk over whole events (the load generator shares the CPU
  // with the service, so it reads cheaply): the event name, and a step's number, the first field
  // of its data; the losses are not parsed.
  const pattern = /^event: (\w+)\ndata: (?:\{"t":(\d+))?/gm;
  for await (const text of body.pipeThrough(new TextDecoderStream())) {
    const { blocks: complete, rest } = takeEventBlocks(buffered, text);
    buffered = rest;
    pattern.lastIndex = 0;
    for (let match; (match = pattern.exec(complete)) !== null;) {
      events++;
      const event = match[1];
      if (event === "meta") sawMeta = true;
      else if (event === "done") sawDone = true;
      else if (event === "step") {
        const t = Number(match[2]);
        if (t !== expected) missing += Math.abs(t - expected);
        expected = t + 1;
      }
    }
  }
  missing += Math.max(0, steps + 1 - expected);
  return { status, complete: sawMeta && sawDone && missing === 0, missing, events };
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  const auth: Record<string, string> = o.token ? { Authorization: `Bearer ${o.token}` } : {};
  const started = performance.now();
  let running = true;
  let serverErrors = 0;
  const count5xx = (status: number) => {
    if (status >= 500) serverErrors++;
  };

  let peakRss = o.rss();
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, o.rss())), 100);

  const prober = new Worker(new URL("./load_probe_worker.ts", import.meta.url), { type: "module" });
  let ready!: () => void;
  const warmedUp = new Promise<void>((resolve) => (ready = resolve));
  const probed = new Promise<{ latencies: number[]; failures: number; serverErrors: number }>(
    (resolve) => (prober.onmessage = (m) => m.data === "ready" ? ready() : resolve(m.data)),
  );
  prober.postMessage({ url: `${o.baseUrl}/healthz`, intervalMs: o.healthzIntervalMs });
  await warmedUp;
  let backgroundSeconds: number | null = null;
  const background = o.background?.().then(() => {
    backgroundSeconds = round((performance.now() - started) / 1000);
  });

  let uploads = 0;
  let uploadFailures = 0;
  let uploadIndex = 0;
  const uploaders = Array.from({ length: o.uploaders }, async () => {
    while (running) {
      const res = await fetch(`${o.baseUrl}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify(o.uploadBody(uploadIndex++)),
      });
      await res.body?.cancel();
      count5xx(res.status);
      if (res.status === 201) uploads++;
      else uploadFailures++;
    }
  });

  let rateLimited = 0;
  let retryAfterMissing = 0;
  let retryAfterMax = 0;
  let stepsMissing = 0;
  let eventsReceived = 0;
  let watchSessions = 0;
  let sessionsComplete = 0;
  let watchersComplete = 0;
  const streams = { open: 0, peak: 0 };
  const curriculum = Array.from(
    { length: o.steps },
    (_, t) => [o.trainIds[t % o.trainIds.length], o.trainIds[(t * 7 + 3) % o.trainIds.length]],
  );
  // Started simulations nobody has yet seen finish. Each watcher keeps one stream open at a time,
  // on one of these in turn (a late one replays from the start), so that all of them are connected
  // together while simulations run, and every simulation is watched as soon as it starts.
  const live: string[] = [];
  const watched = new Set<string>();
  let startersDone = false;
  const starters = Array.from({ length: o.starters }, async () => {
    while (true) {
      const res = await fetch(`${o.baseUrl}/v1/simulations`, {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body: JSON.stringify({ simulator: o.simulator, curriculum, chunkSteps: o.chunkSteps }),
      });
      count5xx(res.status);
      if (res.status === 429) {
        rateLimited++;
        await res.body?.cancel();
        const retryAfter = Number(res.headers.get("retry-after"));
        if (!(retryAfter >= 1)) retryAfterMissing++;
        retryAfterMax = Math.max(retryAfterMax, retryAfter || 0);
        // Honour it (with jitter, so the waiting clients do not all come back at once).
        await sleep((retryAfter >= 1 ? retryAfter : 1) * 1000 * (1 + Math.random() * 0.5));
        continue;
      }
      if (res.status !== 202) throw new Error(`start: ${res.status} ${await res.text()}`);
      live.push(`${o.baseUrl}${(await res.json()).events}`);
      return;
    }
  });
  const watchers = Array.from({ length: o.watchers }, async (_, w) => {
    let turn = w;
    let sessions = 0;
    let complete = 0;
    while (live.length > 0 || !startersDone) {
      if (live.length === 0) {
        await sleep(5);
        continue;
      }
      // A watcher (re)connects after a random pause, as users and EventSource reconnections do,
      // not all in the same millisecond that the previous simulation ended.
      await sleep(Math.random() * o.connectJitterMs);
      if (live.length === 0) continue;
      const url = live[turn++ % live.length];
      const result = await watch(url, auth, o.steps, streams);
      count5xx(result.status);
      sessions++;
      stepsMissing += result.missing;
      eventsReceived += result.events;
      if (result.complete) {
        complete++;
        watched.add(url);
      }
      // Seen to its end (complete or not): no more watchers for it.
      const at = live.indexOf(url);
      if (at >= 0) live.splice(at, 1);
    }
    watchSessions += sessions;
    sessionsComplete += complete;
    if (sessions > 0 && complete === sessions) watchersComplete++;
  });
  const allStarted = Promise.all(starters).then(() => (startersDone = true));
  try {
    await Promise.all([allStarted, ...watchers, background]);
  } finally {
    running = false;
    prober.postMessage("stop");
    await Promise.all(uploaders);
    clearInterval(rssTimer);
  }
  const probes = await probed;
  prober.terminate();
  serverErrors += probes.serverErrors;
  peakRss = Math.max(peakRss, o.rss());
  const sorted = probes.latencies.sort((a, b) => a - b);
  return {
    watchers: o.watchers,
    starters: o.starters,
    stepsPerSimulation: o.steps,
    peakOpenStreams: streams.peak,
    watchSessions,
    sessionsComplete,
    watchersComplete,
    simulationsWatched: watched.size,
    stepsMissing,
    eventsReceived,
    rateLimited,
    retryAfterMissing,
    retryAfterMaxSeconds: retryAfterMax,
    uploads,
    uploadFailures,
    serverErrors,
    healthz: {
      probes: sorted.length,
      p50Ms: round(quantile(sorted, 0.5)),
      p99Ms: round(quantile(sorted, 0.99)),
      maxMs: round(sorted.at(-1) ?? NaN),
      failures: probes.failures,
    },
    peakRssMiB: round(peakRss / 2 ** 20),
    backgroundSeconds,
    wallSeconds: round((performance.now() - started) / 1000),
  };
}

/** A synthetic study: `runs` runs of `steps` steps over `n` training and `m` test examples. */
export function syntheticStudy(study: string, shape = { n: 24, m: 8, runs: 6, steps: 40 }) {
  const model = randomModel(11, {
    n: shape.n,
    m: shape.m,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: shape.m }, (_, z) => 2 + 0.25 * z);
  const runs = generateRuns(5, model, {
    runs: shape.runs,
    steps: shape.steps,
    batch: 3,
    noise: 1e-4,
    initial,
  });
  const trainIds = Array.from({ length: shape.n }, (_, i) => `e${i}`);
  const testIds = Array.from({ length: shape.m }, (_, z) => `q${z}`);
  const bodies = runs.map((run, r) => ({
    study,
    name: `run-${r}`,
    testExamples: testIds,
    steps: (run.batches as number[][]).map((b) => ({ batch: b.map((i) => trainIds[i]) })),
    losses: Array.from(
      { length: run.batches.length + 1 },
      (_, t) => Array.from(run.losses.subarray(t * shape.m, (t + 1) * shape.m)),
    ),
  }));
  return { trainIds, testIds, bodies };
}

async function uploadStudy(baseUrl: string, headers: HeadersInit, bodies: unknown[]) {
  const runIds: string[] = [];
  for (const body of bodies) {
    const res = await fetch(`${baseUrl}/v1/runs`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
    runIds.push((await res.json()).id);
  }
  return runIds;
}

/** Fits a linear simulator and waits for the job; the simulator's id. */
async function fitLinear(
  baseUrl: string,
  headers: HeadersInit,
  study: string,
  runIds: string[],
  lambda: number | "auto",
): Promise<string> {
  const res = await fetch(`${baseUrl}/v1/simulators`, {
    method: "POST",
    headers,
    body: JSON.stringify({ study, kind: "linear", trainRuns: runIds, lambda }),
  });
  if (res.status !== 202) throw new Error(`fit: ${res.status} ${await res.text()}`);
  const { simulator, job } = await res.json();
  for (;;) {
    const state = await (await fetch(`${baseUrl}/v1/jobs/${job}`, { headers })).json();
    if (state.status === "succeeded") return simulator.id;
    if (state.status === "failed" || state.status === "cancelled") {
      throw new Error(`fit ${state.status}: ${state.error}`);
    }
    await sleep(50);
  }
}

/**
 * Uploads a synthetic study and fits a linear simulator on it to simulate from; with
 * `backgroundFit`, also a larger study, and `background` fits it (λ "auto": a sweep of GPU solves)
 * as GPU work during the load.
 */
export async function fittedSimulator(
  baseUrl: string,
  options: { token?: string; backgroundFit?: boolean } = {},
): Promise<
  {
    simulator: string;
    trainIds: string[];
    uploadBody: (i: number) => unknown;
    background?: () => Promise<unknown>;
  }
> {
  const headers = {
    "content-type": "application/json",
    ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
  };
  const { trainIds, bodies } = syntheticStudy("load");
  const simulator = await fitLinear(
    baseUrl,
    headers,
    "load",
    await uploadStudy(baseUrl, headers, bodies),
    0.1,
  );
  let background: (() => Promise<unknown>) | undefined;
  if (options.backgroundFit) {
    const large = syntheticStudy("load-fit", { n: 400, m: 64, runs: 10, steps: 80 });
    const runIds = await uploadStudy(baseUrl, headers, large.bodies);
    background = () => fitLinear(baseUrl, headers, "load-fit", runIds, "auto");
  }
  // Uploads during the load go to a study of their own, with the same shape.
  const template = bodies[0];
  return {
    simulator,
    trainIds,
    uploadBody: (i) => ({ ...template, study: "load-uploads", name: `upload-${i}` }),
    background,
  };
}

function parseArgs(argv: string[]) {
  const args = { watchers: 500, starters: 50, steps: 200, json: false, fit: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") args.json = true;
    else if (arg === "--no-fit") args.fit = false;
    else if (arg === "--watchers") args.watchers = Number(argv[++i]);
    else if (arg === "--starters") args.starters = Number(argv[++i]);
    else if (arg === "--steps") args.steps = Number(argv[++i]);
    else {throw new Error(
        `unknown argument ${arg} (use --watchers N, --starters N, --steps N, --no-fit, --json)`,
      );}
  }
  return args;
}

/** main.ts as a child process on a fresh data directory and a free port, once it is ready. */
export async function startService(env: Record<string, string> = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-load-" });
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL("../main.ts", import.meta.url).pathname],
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      SIMFLUENCE_DATA_DIR: dataDir,
      SIMFLUENCE_LOG_LEVEL: "warn",
      SIMFLUENCE_AUTOTUNE: "off",
      ...env,
    },
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dataDir, { recursive: true });
  };
  try {
    for (let i = 0;; i++) {
      try {
        const res = await fetch(`${baseUrl}/readyz`);
        await res.body?.cancel();
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (i > 600) throw new Error("the service did not become ready in 60 s");
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { baseUrl, pid: child.pid, stop };
}

/** CPU seconds (user + system) process `pid` has used so far (Linux; 0 where /proc cannot tell). */
export function cpuSecondsOf(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The resident set of process `pid` now ("VmRSS") or at its peak ("VmHWM"), in bytes (Linux). */
export function rssOf(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const service = await startService();
  try {
    const { baseUrl } = service;
    const device = await (await fetch(`${baseUrl}/v1/device`)).json();
    const prepared = await fittedSimulator(baseUrl, { backgroundFit: args.fit });
    const cpuBefore = { service: cpuSecondsOf(service.pid), load: cpuSecondsOf("self") };
    const figures = await runLoad({
      baseUrl,
      ...prepared,
      watchers: args.watchers,
      starters: args.starters,
      steps: args.steps,
      chunkSteps: 10,
      uploaders: 2,
      healthzIntervalMs: 20,
      connectJitterMs: 250,
      rss: () => rssOf(service.pid),
    });
    const result = {
      device: `${device.description || device.vendor} (fallback: ${device.isFallbackAdapter})`,
      ...figures,
      // Where the two cores went: the service (with llvmpipe's threads) and this load generator.
      serviceCpuSeconds: round(cpuSecondsOf(service.pid) - cpuBefore.service),
      loadGeneratorCpuSeconds: round(cpuSecondsOf("self") - cpuBefore.load),
      // The kernel's high-water mark also catches peaks between two samples.
      peakRssMiB: Math.max(figures.peakRssMiB, round(rssOf(service.pid, "VmHWM") / 2 ** 20)),
    };
    if (args.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const [key, value] of Object.entries(result)) {
        console.log(
          `${key.padEnd(22)} ${typeof value === "object" ? JSON.stringify(value) : value}`,
        );
      }
    }
  } finally {
    await service.stop();
  }
}
