// Random requests against every registered route must never produce a 5xx (except the JSON 503 of
// routes that need the GPU the test app lacks), and every error must be our JSON error shape.
// The (method, path) pairs come from the app, so later routes are covered too; each pair gets its
// own property, so none is left to chance. Before the properties run, the store is seeded through
// the API with a study of runs (JSON, NDJSON and GPTfluence uploads), a dataset, a model, a fitted
// simulator of every kind and a simulation, so path parameters drawn from those ids reach past the
// 404s into the handlers. Bodies are JSON (random, or built from the route's schema keys), NDJSON,
// multipart forms with the upload routes' file fields, streamed, over the body limit, or absent,
// under matching and wrong content types; queries use the route's own keys. The DELETE properties
// run last (each may first create an object to delete), then the other routes run again against
// simulators whose runs, dataset and model are gone.
import assert from "node:assert/strict";
import fc from "fast-check";
import { LOSS_FILE, TRAIN_FILE } from "../../src/runs/gptfluence_format.ts";
import { SIMULATOR_KINDS } from "../../src/simfluence/math/types.ts";
import type { GpuHandle } from "../../src/gpu/handle.ts";
import { fakeGpu, testApp, until } from "../helpers/app.ts";
import {
  deepJson,
  hostileSafetensors,
  hostileString,
  hostileTokenizers,
  twistedJson,
  zipBomb,
} from "../helpers/hostile_inputs.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";

/**
 * The long fuzz mode (`deno task fuzz`) runs the same properties with every run count multiplied
 * by SIMFLUENCE_FUZZ_SCALE and prints a report; 1 in the test suite.
 */
const SCALE = Number(Deno.env.get("SIMFLUENCE_FUZZ_SCALE") ?? "1");
/** Runs per (method, path) pair; ~30 pairs, so a few seconds in all on a small CPU. */
const RUNS_PER_ROUTE = 100;
/** Runs per pair with a GPU handle that reports an error (so /readyz and /v1/device 503 too). */
const RUNS_PER_ROUTE_NO_GPU = 20;
/** Runs per non-DELETE pair once the seeded runs, dataset and model are deleted. */
const RUNS_AFTER_DELETIONS = 25;
/** Runs of the property that sends any method to any path. */
const RUNS_ANY_METHOD = 300;
/** A request that takes longer than this fails the property instead of hanging the test. */
const REQUEST_TIMEOUT_MS = 15_000;
/** The app's body limit: well above the seeded uploads (the weights are ~40 kB). */
const BODY_LIMIT_MB = 0.1;
const OVERSIZE_BYTES = Math.ceil(BODY_LIMIT_MB * 1024 * 1024) + 1;
/** 503s that are expected: the test app has no GPU runtime. */
const GPU_UNAVAILABLE_CODES = new Set(["gpu_unavailable", "not_ready"]);

const NDJSON = "application/x-ndjson";
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
const FILE_FIELDS = [
  "file",
  "model.safetensors",
  "config.json",
  "tokenizer.json",
  TRAIN_FILE,
  LOSS_FILE,
  "archive",
  "study",
  "name",
];
const QUERY_KEYS = [
  "name",
  "study",
  "format",
  "tests",
  "test",
  "top",
  "limit",
  "offset",
  "status",
  "kind",
  "x",
];
/** Query keys each route reads. */
const QUERY_KEYS_BY_ROUTE: Record<string, string[]> = {
  "GET /v1/jobs": ["limit", "offset", "status", "kind"],
  "GET /v1/runs": ["study", "limit", "offset"],
  "GET /v1/runs/:id": ["format"],
  "GET /v1/runs/:id/trajectories": ["tests"],
  "GET /v1/simulators": ["study", "limit", "offset"],
  "GET /v1/simulators/:id/influence": ["test", "top"],
  "POST /v1/datasets": ["name"],
  "GET /v1/datasets/:id": ["limit", "offset"],
  "GET /v1/models": ["limit", "offset"],
};
/** The bodies each POST route reads (JSON when not listed). */
const BODY_TYPES: Record<string, string[]> = {
  "POST /v1/runs": ["json", "ndjson"],
  "POST /v1/runs/import": ["form"],
  "POST /v1/datasets": ["ndjson", "form"],
  "POST /v1/models": ["json", "form"],
};
const TEST_IDS = ["q1", "q2"];
const TRAIN_IDS = ["e1", "e2", "e3", "e4"];
const MODEL_CONFIG = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

// ---------------------------------------------------------------------------------------------
// Seeding through the API

let uniqueName = 0;
const unique = (prefix: string) => `${prefix}-${++uniqueName}`;

function runBody(name: string, steps = 3) {
  const batches = Array.from(
    { length: steps },
    (_, t) => [TRAIN_IDS[t % 4], TRAIN_IDS[(t + 1) % 4]],
  );
  return {
    study: "s1",
    name,
    testExamples: TEST_IDS,
    steps: batches.map((batch, t) => (t === 0 ? { batch, lr: 0.1 } : { batch })),
    losses: Array.from({ length: steps + 1 }, (_, t) => [2 - 0.1 * t, 3 - 0.15 * t]),
  };
}

const GPTFLUENCE_TRAIN = '{"step": 1, "samples_id": [5, 6]}\n';
const GPTFLUENCE_LOSS =
  '{"id": "q1", "loss_trajectory": [{"step": 0, "loss": 2}, {"step": 1, "loss": 1}]}\n' +
  '{"id": "q2", "loss_trajectory": [{"step": 0, "loss": 3}, {"step": 1, "loss": 2}]}\n';
const DATASET_LINES = '{"text": "hello world"}\n{"id": "b", "text": "another example"}\n' +
  '{"prompt": "2+2=", "completion": "4"}\n';

/** What the creating routes answer: an object's id, or (simulators) the simulator and its job. */
interface Created {
  id: string;
  simulator: { id: string };
  job: string;
}

async function created(res: Response | Promise<Response>, status = 201): Promise<Created> {
  const r = await res;
  const text = await r.text();
  assert.equal(r.status, status, text);
  return JSON.parse(text);
}

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

const seedRun = async (app: AppLike) =>
  (await created(postJson(app, "/v1/runs", runBody(unique("victim-run"))))).id;
const seedDataset = async (app: AppLike) =>
  (await created(app.request(`/v1/datasets?name=${unique("victim-data")}`, {
    method: "POST",
    headers: { "content-type": NDJSON },
    body: DATASET_LINES,
  }))).id;
const seedModel = async (app: AppLike) =>
  (await created(postJson(app, "/v1/models", { config: MODEL_CONFIG, seed: 1 }))).id;

async function seed(ctx: Awaited<ReturnType<typeof testApp>>) {
  const app = ctx.app;
  const runs: string[] = [];
  for (let r = 0; r < 3; r++) {
    runs.push((await created(postJson(app, "/v1/runs", runBody(`run-${r}`, 3 + r)))).id);
  }
  const ndjson = [
    JSON.stringify({
      study: "s1",
      name: "run-nd",
      testExamples: ["q2", "q1"],
      initialLosses: [3, 2],
    }),
    JSON.stringify({ batch: ["e4", "e1"], losses: [2.5, 1.5] }),
  ].join("\n");
  runs.push(
    (await created(app.request("/v1/runs", {
      method: "POST",
      headers: { "content-type": NDJSON },
      body: ndjson,
    }))).id,
  );
  const form = new FormData();
  form.set("study", "s1");
  form.set("name", "run-gptfluence");
  form.set(TRAIN_FILE, new File([GPTFLUENCE_TRAIN], TRAIN_FILE));
  form.set(LOSS_FILE, new File([GPTFLUENCE_LOSS], LOSS_FILE));
  runs.push((await created(app.request("/v1/runs/import", { method: "POST", body: form }))).id);

  const dataset = (await created(app.request("/v1/datasets?name=seeded", {
    method: "POST",
    headers: { "content-type": NDJSON },
    body: DATASET_LINES,
  }))).id;
  const model = (await created(postJson(app, "/v1/models", {
    config: MODEL_CONFIG,
    seed: 1,
    name: "seeded",
  }))).id;
  const weights = await (await app.request(`/v1/models/${model}/weights`)).bytes();
  const archive = await (await app.request(`/v1/runs/${runs[4]}?format=gptfluence`)).bytes();

  const fits: { simulator: { id: string }; job: string }[] = [];
  for (const kind of SIMULATOR_KINDS) {
    const body = kind === "scores"
      ? { scores: { q1: { e1: 0.02, e2: -0.01 }, q2: { e3: 0.005 } } }
      : { validationRuns: [runs[2]] };
    fits.push(
      await created(
        postJson(app, "/v1/simulators", {
          study: "s1",
          kind,
          trainRuns: runs.slice(0, 2),
          ...body,
        }),
        202,
      ),
    );
  }
  const simulators = fits.map((f) => f.simulator.id);
  await until(
    () => simulators.every((id) => ctx.store.get(SIMULATORS).get(id)?.status !== "fitting"),
    20_000,
  );
  for (const id of simulators) {
    const record = ctx.store.get(SIMULATORS).get(id)!;
    assert.equal(record.status, "ready", JSON.stringify(record));
  }
  const simulation = (await created(
    postJson(app, "/v1/simulations", { simulator: simulators[0], curriculum: [["e1", "e2"]] }),
    202,
  )).id;

  const finished = ctx.jobs.submit("done", { a: 1 }, () => Promise.resolve({ ok: true }));
  await until(() => ctx.jobs.get(finished.id)!.status === "succeeded");
  // Jobs run one at a time: from here on, jobs submitted by random requests stay queued until a
  // DELETE /v1/jobs/:id property cancels this one (close() cancels the rest), which keeps the
  // properties' timing independent of what they submit.
  const running = ctx.jobs.submit("forever", null, foreverJob);
  const jobs = [finished.id, running.id, ...fits.map((f) => f.job)];
  return { runs, dataset, model, weights, archive, simulators, simulation, jobs };
}

function foreverJob(c: { signal: AbortSignal }): Promise<never> {
  return new Promise((_, reject) =>
    c.signal.addEventListener("abort", () => reject(c.signal.reason))
  );
}

// ---------------------------------------------------------------------------------------------
// Requests

type Body =
  | { kind: "none" }
  | { kind: "text"; text: string; type: string | null; chunks?: number }
  | { kind: "form"; entries: [string, string | FormFile][]; type: string | null };
interface FormFile {
  bytes: Uint8Array<ArrayBuffer>;
  filename: string;
}

interface Draw {
  method: string;
  path: string;
  /** The query string, without "?". */
  query: string;
  body: Body;
  accept: string | null;
}

function describe(d: Draw): string {
  const q = d.query;
  let body = "";
  if (d.body.kind === "text") {
    body = `(${d.body.type}${d.body.chunks ? `, ${d.body.chunks} chunks` : ""}, ` +
      `${d.body.text.length} chars) ${d.body.text.slice(0, 200)}`;
  }
  if (d.body.kind === "form") {
    body = `(form${d.body.type ? `, ${d.body.type}` : ""}) ` +
      d.body.entries.map(([k, v]) =>
        `${k}=${typeof v === "string" ? v.slice(0, 60) : `<${v.filename}, ${v.bytes.length} B>`}`
      ).join(" & ");
  }
  return `${d.method} ${d.path.slice(0, 200)}${q ? `?${q.slice(0, 200)}` : ""} ` +
    `accept=${d.accept} ${body}`;
}

function requestInit(d: Draw): RequestInit {
  const headers = new Headers();
  if (d.accept) headers.set("accept", d.accept);
  const init: RequestInit = { method: d.method, headers };
  if (d.method === "GET" || d.method === "HEAD") return init;
  if (d.body.kind === "text") {
    if (d.body.type) headers.set("content-type", d.body.type);
    init.body = d.body.chunks ? chunked(d.body.text, d.body.chunks) : d.body.text;
    // A stream has no Content-Length: the body limit counts it as the handler reads it.
    if (d.body.chunks) (init as { duplex?: string }).duplex = "half";
  } else if (d.body.kind === "form") {
    const form = new FormData();
    for (const [name, value] of d.body.entries) {
      if (typeof value === "string") form.append(name, value);
      else form.append(name, new File([value.bytes], value.filename));
    }
    // Without an explicit type, the FormData sets multipart/form-data with its boundary.
    if (d.body.type) headers.set("content-type", d.body.type);
    init.body = form;
  }
  return init;
}

/** The text as a stream of about `count` chunks, cut anywhere (inside UTF-8 sequences too). */
function chunked(text: string, count: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const size = Math.max(1, Math.ceil(bytes.length / count));
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

/** What the requests got, for the fuzz mode's report. */
const stats = {
  requests: 0,
  statuses: new Map<number, number>(),
  peakRss: 0,
  /**
   * [requests, RSS, V8 heap used, external (array buffers)] in MiB every 5,000 requests: growth
   * without bound would show here.
   */
  memory: [] as [number, number, number, number][],
  record(status: number) {
    this.requests++;
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    if (this.requests % 100 === 0) this.peakRss = Math.max(this.peakRss, Deno.memoryUsage().rss);
    if (this.requests % 5_000 === 0) {
      const { rss, heapUsed, external } = Deno.memoryUsage();
      const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
      this.memory.push([this.requests, mib(rss), mib(heapUsed), mib(external)]);
    }
  },
};

/** Sends the request and checks the answer: no 5xx but the GPU's 503, errors in our JSON shape. */
async function check(app: AppLike, d: Draw): Promise<void> {
  const label = describe(d);
  const q = d.query;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms: ${label}`)),
      REQUEST_TIMEOUT_MS,
    );
  });
  try {
    const res = await Promise.race([
      Promise.resolve(app.request(`${d.path}${q ? `?${q}` : ""}`, requestInit(d))),
      timeout,
    ]);
    stats.record(res.status);
    const type = res.headers.get("content-type") ?? "";
    if (res.status < 400) {
      if (d.method === "HEAD") await res.body?.cancel();
      else if (type.startsWith("text/event-stream")) await res.body?.cancel();
      else if (type.startsWith("application/json")) {
        const text = await Promise.race([res.text(), timeout]);
        assert.doesNotThrow(() => JSON.parse(text), `2xx with unparsable JSON for ${label}`);
      } else await Promise.race([res.arrayBuffer(), timeout]);
      return;
    }
    if (d.method === "HEAD") {
      assert.ok(res.status < 500, `${res.status} for ${label}`);
      return;
    }
    const text = await Promise.race([res.text(), timeout]);
    let json: { error?: { code?: unknown; message?: unknown; details?: unknown } };
    try {
      json = JSON.parse(text);
    } catch {
      assert.fail(`${res.status} with a non-JSON body for ${label}: ${text.slice(0, 300)}`);
    }
    const error = json.error;
    assert.ok(error && typeof error === "object", `no error object for ${label}: ${text}`);
    assert.equal(typeof error.code, "string", `error.code for ${label}: ${text}`);
    assert.equal(typeof error.message, "string", `error.message for ${label}: ${text}`);
    assert.ok("details" in error, `error.details for ${label}: ${text}`);
    assert.ok(type.startsWith("application/json"), `${res.status} typed ${type} for ${label}`);
    if (res.status >= 500) {
      assert.ok(
        res.status === 503 && GPU_UNAVAILABLE_CODES.has(error.code as string),
        `${res.status} for ${label}: ${text.slice(0, 500)}`,
      );
    }
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

function arbitraries(seeded: Awaited<ReturnType<typeof seed>>) {
  const realIds = [
    ...seeded.runs,
    seeded.dataset,
    seeded.model,
    ...seeded.simulators,
    seeded.simulation,
    ...seeded.jobs,
  ];
  const knownStrings = [
    ...realIds,
    "builtin:skills",
    "builtin:spam",
    "s1",
    "s2",
    "seeded",
    ...TEST_IDS,
    ...TRAIN_IDS,
    "5",
    "",
  ];
  const str = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...knownStrings) },
    { weight: 2, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.constantFrom("x".repeat(300), "\u0000", "é€😀", "__proto__") },
    { weight: 1, arbitrary: hostileString },
  );
  const num = fc.oneof(
    fc.integer({ min: -3, max: 40 }),
    fc.double({ min: -10, max: 10, noNaN: true }),
    fc.constantFrom(0, 1, 0.5, -1, 1e9, 2 ** 31, 1e308, -1e308, Number.MAX_SAFE_INTEGER),
  );
  const anything = fc.jsonValue({ maxDepth: 2 });
  /** Mostly plausible values for a field, sometimes anything at all. */
  const field = <T>(plausible: fc.Arbitrary<T>) =>
    fc.oneof({ weight: 5, arbitrary: plausible as fc.Arbitrary<unknown> }, {
      weight: 1,
      arbitrary: anything as fc.Arbitrary<unknown>,
    });
  const testId = fc.oneof(fc.constantFrom(...TEST_IDS), str);
  const trainId = fc.oneof(fc.constantFrom(...TRAIN_IDS, "5", "6"), str);
  const runId = fc.oneof(fc.constantFrom(...seeded.runs), str);
  const batches = fc.array(fc.array(trainId, { maxLength: 4 }), { maxLength: 6 });
  const lossValue = fc.oneof(
    { weight: 40, arbitrary: fc.double({ min: 0, max: 10, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, 0, 1e308) },
  );
  const goodTrainId = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...TRAIN_IDS, "5", "6") },
    { weight: 1, arbitrary: str },
  );
  const goodBatches = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.array(fc.array(goodTrainId, { minLength: 1, maxLength: 3 }), {
        minLength: 1,
        maxLength: 5,
      }),
    },
    { weight: 1, arbitrary: fc.array(fc.array(goodTrainId, { maxLength: 3 }), { maxLength: 5 }) },
  );

  /** A run body whose parts agree (losses: steps + 1 rows of one per test example). */
  const coherentRun = fc.record({
    study: fc.constantFrom("s1", "s1", "s2"),
    name: fc.oneof(fc.constantFrom("run-0", "run-1"), fc.string({ minLength: 1, maxLength: 12 })),
    tests: fc.constantFrom(TEST_IDS, ["q2", "q1"], ["q1"], ["q1", "q1"], ["a", "b", "c"]),
    batches: goodBatches,
    lr: fc.option(fc.double({ min: -0.1, max: 1, noNaN: true })),
    losses: fc.array(lossValue, { minLength: 24, maxLength: 24 }),
  }).map((r) => ({
    study: r.study,
    name: r.name,
    testExamples: r.tests,
    steps: r.batches.map((
      batch,
      t,
    ) => (t === 0 && r.lr !== null ? { batch, lr: r.lr } : { batch })),
    losses: Array.from(
      { length: r.batches.length + 1 },
      (_, t) => r.tests.map((_, j) => r.losses[(t * r.tests.length + j) % r.losses.length]),
    ),
  }));
  const curriculumFields = {
    curriculum: field(batches),
    fromRun: field(runId),
    permute: field(num),
    drop: field(fc.array(trainId, { maxLength: 3 })),
    repeat: field(fc.dictionary(trainId, fc.integer({ min: -1, max: 5 }), { maxKeys: 3 })),
    unknown: field(fc.constantFrom("error", "ignore", "other")),
    tests: field(fc.array(testId, { maxLength: 3 })),
    initialLosses: field(fc.dictionary(testId, num, { maxKeys: 3 })),
    chunkSteps: field(fc.oneof(fc.integer({ min: 0, max: 8 }), num)),
  };
  const configValue = {
    vocab_size: fc.constantFrom(257, 64, 1, 0, -1, 1.5, 1 << 21, "257", null),
    n_positions: fc.constantFrom(32, 8, 1, 0, 1 << 17),
    n_embd: fc.constantFrom(16, 8, 6, 0, 1 << 15),
    n_layer: fc.constantFrom(1, 2, 0, 2000),
    n_head: fc.constantFrom(2, 1, 3, 4, 0),
    n_inner: fc.constantFrom(null, 16, 0),
    activation_function: fc.constantFrom("gelu_new", "relu"),
    tie_word_embeddings: fc.constantFrom(true, false),
    model_type: fc.constantFrom("gpt2", "llama"),
  };
  const config = fc.oneof(
    fc.constant(MODEL_CONFIG),
    fc.constant(MODEL_CONFIG),
    fc.record(configValue, {
      requiredKeys: ["vocab_size", "n_positions", "n_embd", "n_layer", "n_head"],
    }),
    fc.record(configValue, { requiredKeys: [] }),
    anything,
  );
  const tokenizer = fc.oneof(
    fc.constantFrom(...hostileTokenizers()),
    fc.constant({ model: { type: "BPE", vocab: {}, merges: [] } }),
    fc.constant({ version: "1.0", model: { type: "WordLevel", vocab: { a: 0 }, unk_token: "a" } }),
    fc.dictionary(fc.constantFrom("model", "version", "added_tokens", "normalizer"), anything),
  );
  const example = fc.oneof(
    fc.record({ id: str, text: str }, { requiredKeys: ["text"] }),
    fc.record({ id: str, prompt: str, completion: str }, {
      requiredKeys: ["prompt", "completion"],
    }),
    anything,
  );
  const selection = fc.oneof(fc.array(trainId, { maxLength: 3 }), fc.integer({ min: -1, max: 5 }));

  /** For each route that reads a JSON body: the keys its schema knows, with plausible values. */
  const fields: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
    "POST /v1/runs": {
      study: field(str),
      name: field(str),
      testExamples: field(fc.array(testId, { maxLength: 3 })),
      steps: field(
        fc.array(fc.record({ batch: fc.array(trainId), lr: num }, { requiredKeys: [] })),
      ),
      losses: field(fc.array(fc.array(num, { maxLength: 3 }), { maxLength: 4 })),
    },
    "POST /v1/simulators": {
      study: field(fc.constantFrom("s1", "s2")),
      kind: field(fc.constantFrom(...SIMULATOR_KINDS, "nonsense")),
      trainRuns: field(fc.array(runId, { maxLength: 3 })),
      validationRuns: field(fc.array(runId, { maxLength: 2 })),
      lambda: field(fc.oneof(num, fc.constant("auto"))),
      scores: field(
        fc.dictionary(testId, fc.dictionary(trainId, num, { maxKeys: 3 }), { maxKeys: 3 }),
      ),
    },
    "POST /v1/simulators/:id/evaluate": {
      runs: field(fc.array(runId, { maxLength: 3 })),
      allowFittingRuns: field(fc.boolean()),
    },
    "POST /v1/simulators/:id/simulate": curriculumFields,
    "POST /v1/simulations": {
      ...curriculumFields,
      simulator: field(fc.oneof(fc.constantFrom(...seeded.simulators), str)),
    },
    "POST /v1/training-runs": {
      study: field(str),
      model: field(fc.oneof(fc.constant(seeded.model), str)),
      dataset: field(fc.oneof(fc.constantFrom(seeded.dataset, "builtin:skills"), str)),
      trainExamples: field(selection),
      testExamples: field(selection),
      runs: field(fc.integer({ min: 0, max: 3 })),
      steps: field(fc.integer({ min: 0, max: 5 })),
      epochs: field(fc.integer({ min: 0, max: 2 })),
      batchSize: field(fc.integer({ min: 0, max: 4 })),
      optimizer: field(
        fc.record({ kind: fc.constantFrom("adamw", "sgd", "x"), lr: num }, { requiredKeys: [] }),
      ),
      curriculum: field(fc.oneof(fc.constantFrom("shuffle", "subsample"), fc.record({ batches }))),
      subsampleFraction: field(num),
      seed: field(num),
      checkpointEvery: field(num),
      namePrefix: field(str),
    },
    "POST /v1/models": {
      config: field(config),
      seed: field(num),
      name: field(str),
      tokenizer: field(tokenizer),
    },
    "POST /v1/models/:id/losses": {
      examples: field(fc.array(example, { maxLength: 3 })),
      dataset: field(fc.oneof(fc.constantFrom(seeded.dataset, "builtin:skills"), str)),
      ids: field(
        fc.array(fc.oneof(fc.constantFrom("b", "seeded-1", "add-0"), str), { maxLength: 3 }),
      ),
    },
  };
  const allFields = Object.assign({}, ...Object.values(fields)) as Record<
    string,
    fc.Arbitrary<unknown>
  >;

  const someRuns = (min: number) => fc.subarray(seeded.runs, { minLength: min, maxLength: 3 });
  const small = (max: number) => fc.integer({ min: 1, max });
  const coherentCurriculum = fc.oneof(
    fc.record({
      curriculum: fc.array(fc.subarray(TRAIN_IDS, { maxLength: 3 }), {
        minLength: 1,
        maxLength: 5,
      }),
    }),
    fc.record({
      fromRun: fc.constantFrom(...seeded.runs),
      permute: fc.nat(100),
      drop: fc.subarray(TRAIN_IDS),
      repeat: fc.dictionary(fc.constantFrom(...TRAIN_IDS), fc.nat(3), { maxKeys: 2 }),
    }, { requiredKeys: ["fromRun"] }),
  ).chain((c) =>
    fc.record({
      tests: fc.subarray(TEST_IDS, { minLength: 1 }),
      initialLosses: fc.dictionary(fc.constantFrom(...TEST_IDS), lossValue, { maxKeys: 2 }),
      chunkSteps: small(4),
      unknown: fc.constantFrom("error", "ignore"),
    }, { requiredKeys: [] }).map((extra) => ({ ...c, ...extra }))
  );
  /** Bodies that are valid or one detail away from it, so the handlers get past validation. */
  const coherent: Record<string, fc.Arbitrary<unknown>> = {
    "POST /v1/runs": coherentRun,
    "POST /v1/simulators": fc.tuple(
      fc.constantFrom(...SIMULATOR_KINDS),
      fc.shuffledSubarray(seeded.runs, { minLength: 1 }),
      fc.nat(),
      fc.option(fc.oneof(fc.constant("auto"), fc.double({ min: 0, max: 10, noNaN: true }))),
      fc.dictionary(
        fc.constantFrom(...TEST_IDS),
        fc.dictionary(fc.constantFrom(...TRAIN_IDS), fc.double({ min: -1, max: 1, noNaN: true })),
        { maxKeys: 2 },
      ),
    ).map(([kind, runs, split, lambda, scores]) => {
      const k = 1 + (split % runs.length);
      const body: Record<string, unknown> = {
        study: "s1",
        kind,
        trainRuns: runs.slice(0, k),
        validationRuns: runs.slice(k),
      };
      if (kind === "scores") body.scores = scores;
      else if (lambda !== null) body.lambda = lambda;
      return body;
    }),
    "POST /v1/simulators/:id/evaluate": fc.record({
      runs: someRuns(1),
      allowFittingRuns: fc.boolean(),
    }, { requiredKeys: ["runs"] }),
    "POST /v1/simulators/:id/simulate": coherentCurriculum,
    "POST /v1/simulations": fc.tuple(fc.constantFrom(...seeded.simulators), coherentCurriculum)
      .map(([simulator, c]) => ({ simulator, ...c })),
    "POST /v1/training-runs": fc.record({
      study: fc.constantFrom("s1", "s3"),
      model: fc.constant(seeded.model),
      dataset: fc.constantFrom(seeded.dataset, "builtin:skills"),
      trainExamples: small(2),
      testExamples: small(1),
      runs: small(2),
      steps: small(2),
      batchSize: small(2),
      optimizer: fc.record({ kind: fc.constantFrom("adamw", "sgd"), lr: fc.constant(0.01) }),
    }),
    "POST /v1/models": fc.record({
      config,
      seed: fc.nat(9),
      name: fc.string({ minLength: 1, maxLength: 8 }),
    }, { requiredKeys: ["config"] }),
    "POST /v1/models/:id/losses": fc.oneof(
      fc.record({ examples: fc.array(example, { minLength: 1, maxLength: 3 }) }),
      fc.record({
        dataset: fc.constantFrom(seeded.dataset, "builtin:skills"),
        ids: fc.subarray(["b", "seeded-1", "seeded-3", "add1-0", "rev-1"], { minLength: 1 }),
      }, { requiredKeys: ["dataset"] }),
    ),
  };

  function jsonObject(route: string): fc.Arbitrary<unknown> {
    const known = fields[route] ?? allFields;
    const objects: { weight: number; arbitrary: fc.Arbitrary<unknown> }[] = [
      { weight: 2, arbitrary: fc.record(known, { requiredKeys: [] }) },
      {
        weight: 1,
        arbitrary: fc.tuple(
          fc.record(known, { requiredKeys: [] }),
          fc.dictionary(fc.string(), anything, { maxKeys: 2 }),
        ).map(([a, b]) => ({ ...b, ...a })),
      },
    ];
    if (coherent[route]) objects.push({ weight: 4, arbitrary: coherent[route] });
    return fc.oneof(...objects);
  }

  const ndjsonLine = fc.oneof(
    coherentRun.map((r) => JSON.stringify({ ...r, initialLosses: r.losses[0] })),
    fc.record({
      batch: fc.array(trainId, { maxLength: 3 }),
      losses: fc.array(lossValue, { maxLength: 3 }),
    })
      .map((l) => JSON.stringify(l)),
    fc.record({ id: str, text: str }, { requiredKeys: ["text"] }).map((l) => JSON.stringify(l)),
    fc.record({ prompt: str, completion: str }).map((l) => JSON.stringify(l)),
    anything.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 30 }),
    fc.constantFrom("", "{", '{"text": "unterminated', "\uFEFF{}", "null"),
  );
  /** A run header and its step lines, as NDJSON: often valid. */
  const ndjsonRun = fc.tuple(
    fc.string({ minLength: 1, maxLength: 10 }),
    fc.array(
      fc.tuple(fc.array(goodTrainId, { minLength: 1, maxLength: 3 }), lossValue, lossValue),
      { minLength: 1, maxLength: 4 },
    ),
  ).map(([name, steps]) =>
    [
      JSON.stringify({ study: "s1", name, testExamples: TEST_IDS, initialLosses: [2, 3] }),
      ...steps.map(([batch, a, b]) => JSON.stringify({ batch, losses: [a, b] })),
    ].join("\n")
  );
  const ndjson = fc.oneof(
    fc.tuple(fc.array(ndjsonLine, { maxLength: 6 }), fc.constantFrom("\n", "\r\n"), fc.boolean())
      .map(([lines, sep, trailing]) => lines.join(sep) + (trailing ? sep : "")),
    ndjsonRun,
    fc.constant(DATASET_LINES),
  );

  /** GPTfluence archives: a run's own export, half of it, and zip bombs past the body limit. */
  const archives = [
    seeded.archive as Uint8Array<ArrayBuffer>,
    seeded.archive.slice(0, seeded.archive.length >> 1) as Uint8Array<ArrayBuffer>,
    zipBomb([[TRAIN_FILE, 4 * 2 ** 20], [LOSS_FILE, 1]]),
    zipBomb([["notes.txt", 4 * 2 ** 20]]),
  ];
  const fileText = fc.oneof(
    fc.constantFrom(
      GPTFLUENCE_TRAIN,
      GPTFLUENCE_LOSS,
      DATASET_LINES,
      JSON.stringify(MODEL_CONFIG),
      '{"model": {"type": "BPE"}}',
      "",
    ),
    ndjson,
    anything.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }),
  );
  const fileBytes = fc.oneof(
    fileText.map((t) => new TextEncoder().encode(t) as Uint8Array<ArrayBuffer>),
    fc.uint8Array({ maxLength: 64 }) as fc.Arbitrary<Uint8Array<ArrayBuffer>>,
    fc.constant(seeded.weights as Uint8Array<ArrayBuffer>),
    fc.constantFrom(...hostileSafetensors()),
    fc.constantFrom(...archives),
    // Truncated or corrupted safetensors: a valid header length with a broken rest.
    fc.tuple(fc.integer({ min: 0, max: seeded.weights.length }), fc.integer({ min: 0, max: 255 }))
      .map(([cut, byte]) => {
        const copy = seeded.weights.slice(0, Math.max(cut, 9)) as Uint8Array<ArrayBuffer>;
        copy[8 + (cut % Math.max(1, copy.length - 8))] = byte;
        return copy;
      }),
  );
  const formName = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...FILE_FIELDS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const formValue = fc.oneof(
    fc.oneof(fc.constantFrom("s1", "s2", "seeded", "run-0"), fileText),
    fc.record({ bytes: fileBytes, filename: formName }),
  );
  type Entry = [string, string | FormFile];
  const asFile = (name: string, text: fc.Arbitrary<string>) =>
    text.map((t): Entry => [name, { bytes: new TextEncoder().encode(t), filename: name }]);
  const optional = (entry: fc.Arbitrary<Entry>) =>
    fc.option(entry, { nil: null }).map((e): Entry[] => e ? [e] : []);
  /** The fields an upload route reads, with plausible contents: often a valid upload. */
  const coherentForm: Record<string, fc.Arbitrary<Entry[]>> = {
    "POST /v1/runs/import": fc.oneof(
      fc.tuple(
        fc.constantFrom("s1", "s1", "s2").map((v): Entry => ["study", v]),
        fc.stringMatching(/^[a-z0-9-]{1,10}$/).map((v): Entry => ["name", v]),
        asFile(TRAIN_FILE, fc.oneof(fc.constant(GPTFLUENCE_TRAIN), fileText)),
        asFile(LOSS_FILE, fc.oneof(fc.constant(GPTFLUENCE_LOSS), fileText)),
      ).map((entries): Entry[] => entries),
      fc.tuple(
        fc.constantFrom("s1", "s2").map((v): Entry => ["study", v]),
        fc.stringMatching(/^[a-z0-9-]{1,10}$/).map((v): Entry => ["name", v]),
        fc.constantFrom(...archives).map((
          bytes,
        ): Entry => ["archive", { bytes, filename: "r.zip" }]),
      ).map((entries): Entry[] => entries),
    ),
    "POST /v1/models": fc.tuple(
      fc.tuple(fileBytes, fc.constantFrom("model.safetensors", "weights.bin"))
        .map(([bytes, filename]): Entry => ["model.safetensors", { bytes, filename }]),
      optional(asFile("config.json", fc.oneof(config.map((c) => JSON.stringify(c)), fileText))),
      optional(asFile("tokenizer.json", tokenizer.map((t) => JSON.stringify(t)))),
      optional(str.map((v): Entry => ["name", v])),
    ).map(([weights, ...rest]) => [weights, ...rest.flat()]),
    "POST /v1/datasets": fc.oneof(asFile("file", ndjson), ndjson.map((t): Entry => ["file", t]))
      .map((e) => [e]),
  };
  const form = (route: string) =>
    fc.record({
      entries: fc.oneof(
        fc.array(fc.tuple(formName, formValue), { maxLength: 6 }),
        // Every field any route reads, each once: the uploads get past "field missing".
        fc.tuple(...FILE_FIELDS.map((name) => fc.tuple(fc.constant(name), formValue))),
        ...(coherentForm[route] ? [coherentForm[route], coherentForm[route]] : []),
      ),
      type: fc.oneof(
        { weight: 4, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "multipart/form-data",
            "multipart/form-data; boundary=nope",
            "application/json",
            NDJSON,
            "application/x-www-form-urlencoded",
          ),
        },
      ),
    }).map((f) => ({ kind: "form" as const, ...f }));

  const jsonTypes = fc.constantFrom(
    "application/json",
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
  );
  const ndjsonTypes = fc.constantFrom(NDJSON, NDJSON, "application/ndjson", "application/jsonl");
  const wrongTypes = fc.constantFrom(
    null,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "application/json",
    NDJSON,
    "",
  );
  const text = (content: fc.Arbitrary<string>, type: fc.Arbitrary<string | null>) =>
    fc.record({
      text: content,
      type,
      chunks: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, {
        weight: 1,
        arbitrary: fc.integer({ min: 1, max: 8 }),
      }),
    }).map((b) => ({ kind: "text" as const, ...b }));
  /** Bodies over the app's limit (BODY_LIMIT_MB): the 413 must win over every parser. */
  const oversized = fc.oneof(
    text(
      fc.tuple(fc.oneof(ndjson, fc.constant(DATASET_LINES)), fc.nat(1000)).map(([t, n]) =>
        (t + "\n").repeat(Math.ceil(OVERSIZE_BYTES / Math.max(1, t.length + 1))) + "x".repeat(n)
      ),
      fc.oneof(ndjsonTypes, jsonTypes, wrongTypes),
    ),
    text(
      fc.constant(JSON.stringify({ study: "s1", name: "x".repeat(OVERSIZE_BYTES) })),
      jsonTypes,
    ),
    fc.tuple(fc.constantFrom(...FILE_FIELDS), fc.uint8Array({ maxLength: 16 })).map((
      [name, head],
    ): Body => ({
      kind: "form",
      entries: [["study", "s1"], [name, {
        bytes: new Uint8Array([...head, ...new Uint8Array(OVERSIZE_BYTES)]),
        filename: name,
      }]],
      type: null,
    })),
  );

  function body(route: string): fc.Arbitrary<Body> {
    const jsonText = fc.oneof(
      { weight: 3, arbitrary: jsonObject(route).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: anything.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.constantFrom('{"unterminated": ', "", "{}", "[]", "null") },
      { weight: 1, arbitrary: deepJson(OVERSIZE_BYTES) },
      { weight: 1, arbitrary: twistedJson(jsonObject(route)) },
    );
    const accepts = BODY_TYPES[route] ?? ["json"];
    const weight = (kind: string, w: number) => route === "any" || accepts.includes(kind) ? w : 1;
    return fc.oneof(
      { weight: weight("json", 5), arbitrary: text(jsonText, jsonTypes) },
      { weight: weight("ndjson", 4), arbitrary: text(ndjson, ndjsonTypes) },
      { weight: weight("form", 4), arbitrary: form(route) },
      { weight: 1, arbitrary: text(fc.oneof(jsonText, ndjson, fc.string()), wrongTypes) },
      { weight: 1, arbitrary: fc.constant({ kind: "none" as const }) },
      { weight: 1, arbitrary: oversized },
    );
  }

  const queryValue = fc.oneof(
    fc.constantFrom(...knownStrings),
    fc.constantFrom("json", "ndjson", "gptfluence", "zip", "q1,q2", "q1,zz", " , ", "new-data"),
    fc.constantFrom("0", "1", "-1", "5", "1000", "1001", "1e999", "1.5", "NaN", "0x10", ""),
    fc.constantFrom("succeeded", "running", "queued", "failed", "simulator-fit", "forever"),
    fc.integer().map(String),
    fc.string({ maxLength: 16 }),
  );
  const count = fc.integer({ min: 0, max: 60 }).map(String);
  const plausibleQuery: Record<string, fc.Arbitrary<string>> = {
    name: fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
    study: fc.constantFrom("s1", "s2"),
    format: fc.constantFrom("json", "ndjson", "gptfluence"),
    tests: fc.subarray(TEST_IDS).map((t) => t.join(",")),
    test: fc.constantFrom(...TEST_IDS),
    top: count,
    limit: count,
    offset: count,
    status: fc.constantFrom("queued", "running", "succeeded", "failed", "cancelled"),
    kind: fc.constantFrom("simulator-fit", "forever", "done", "training-runs"),
  };
  const valueFor = (key: string) =>
    plausibleQuery[key]
      ? fc.oneof({ weight: 4, arbitrary: plausibleQuery[key] }, {
        weight: 1,
        arbitrary: queryValue,
      })
      : queryValue;
  /** Raw query text URLSearchParams would never write: bad escapes, empty keys, bare keys. */
  const rawQuery = fc.oneof(
    { weight: 6, arbitrary: fc.constant("") },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "%ZZ",
        "limit=%ZZ",
        "tests=%E0%A4%A",
        "test=q1%",
        "=",
        "&&",
        "test",
        "name=%00",
        "format[]=json",
        "limit=1&limit=2",
        "__proto__=1",
      ),
    },
  );
  const query = (route: string): fc.Arbitrary<string> =>
    fc.tuple(pairs(route), rawQuery).map(([p, raw]) =>
      [new URLSearchParams(p).toString(), raw].filter((x) => x !== "").join("&")
    );
  /**
   * The keys the route reads (each present half the time, mostly with plausible values), then
   * sometimes a pair of any key with any value.
   */
  const pairs = (route: string): fc.Arbitrary<[string, string][]> =>
    fc.tuple(
      fc.record(
        Object.fromEntries((QUERY_KEYS_BY_ROUTE[route] ?? []).map((k) => [k, valueFor(k)])),
        { requiredKeys: [] },
      ),
      fc.oneof(
        { weight: 3, arbitrary: fc.constant([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), {
            minLength: 1,
            maxLength: 3,
          }),
        },
      ),
    ).map(([known, extra]) => [...Object.entries(known) as [string, string][], ...extra]);

  const VICTIM = "\u0000victim";
  const idsByResource: Record<string, string[]> = {
    "/v1/runs/": seeded.runs,
    "/v1/datasets/": [seeded.dataset, "builtin:skills", "builtin:spam"],
    "/v1/models/": [seeded.model],
    "/v1/simulators/": seeded.simulators,
    "/v1/simulations/": [seeded.simulation],
    "/v1/jobs/": seeded.jobs,
  };
  const anySegment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...realIds, "builtin:skills", "builtin:spam") },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "..",
        ".",
        "%00",
        "%ZZ",
        "a%2Fb",
        "%2e%2e",
        "%20",
        "builtin%3Askills",
        "__proto__",
        "constructor",
        "x".repeat(200),
        "x".repeat(201),
        "x".repeat(5000),
      ),
    },
  );
  /** A path parameter: mostly an id of the route's own resource, else anything. */
  const segment = (template: string) => {
    const own = Object.entries(idsByResource).find(([prefix]) => template.startsWith(prefix));
    return own
      ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...own[1]) }, {
        weight: 2,
        arbitrary: anySegment,
      })
      : anySegment;
  };
  return { body, query, segment, VICTIM };
}

/** Fresh objects for DELETE routes to delete, by the path's resource. */
function victims(ctx: Awaited<ReturnType<typeof testApp>>) {
  const app = ctx.app;
  return {
    "/v1/runs/:id": () => seedRun(app),
    "/v1/datasets/:id": () => seedDataset(app),
    "/v1/models/:id": () => seedModel(app),
    "/v1/jobs/:id": () => Promise.resolve(ctx.jobs.submit("forever", null, foreverJob).id),
    "/v1/simulators/:id": async () =>
      (await created(
        postJson(app, "/v1/simulators", {
          study: "s1",
          kind: "linear",
          trainRuns: [await seedRun(app), await seedRun(app)],
        }),
        202,
      )).simulator.id,
  } as Record<string, () => Promise<string>>;
}

function fillPath(template: string, values: readonly string[]): string {
  let i = 0;
  return template.replace(/:[^/]+/g, () => values[i++]);
}

interface SuiteOptions {
  gpu?: GpuHandle;
  runsPerRoute: number;
  runsAfterDeletions: number;
  runsAnyMethod: number;
}

async function suite(t: Deno.TestContext, options: SuiteOptions): Promise<void> {
  const ctx = await testApp({
    gpu: options.gpu,
    sseKeepAliveMs: 50,
    env: { SIMFLUENCE_MAX_BODY_MB: String(BODY_LIMIT_MB) },
  });
  try {
    const seeded = await seed(ctx);
    const arb = arbitraries(seeded);
    const victimOf = victims(ctx);

    const pairs = new Map<string, { method: string; path: string }>();
    for (const r of ctx.app.routes) {
      if (r.method === "ALL" || r.path === "*" || r.path === "/*") continue;
      pairs.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
    }
    assert.ok(pairs.size >= 25, `expected the app's routes to be listed, got ${[...pairs.keys()]}`);
    // DELETEs last, so the seeded objects are there for every other route.
    const ordered = [...pairs.entries()].sort(([, a], [, b]) =>
      Number(a.method === "DELETE") - Number(b.method === "DELETE")
    );

    const accept = fc.constantFrom(null, "application/json", "text/event-stream", "*/*");
    const exercise = (route: string, method: string, template: string, numRuns: number) => {
      const params = (template.match(/:[^/]+/g) ?? []).length;
      const victim = method === "DELETE" ? victimOf[template] : undefined;
      const segment = arb.segment(template);
      const segments = fc.array(victim ? fc.oneof(segment, fc.constant(arb.VICTIM)) : segment, {
        minLength: params,
        maxLength: params,
      });
      return fc.assert(
        fc.asyncProperty(
          segments,
          arb.query(route),
          arb.body(route),
          accept,
          async (s, q, b, a) => {
            const values = await Promise.all(s.map((v) => v === arb.VICTIM ? victim!() : v));
            await check(ctx.app, {
              method,
              path: fillPath(template, values),
              query: q,
              body: b,
              accept: a,
            });
          },
        ),
        { numRuns },
      );
    };

    for (const [route, { method, path }] of ordered) {
      await t.step(route, () => exercise(route, method, path, options.runsPerRoute));
    }

    // Dangling references: simulators, simulations and jobs whose runs, study, dataset or model
    // are gone.
    await t.step("the seeded runs, dataset and model are deleted", async () => {
      for (
        const path of [
          // force: the simulators fitted on them must be left dangling.
          ...seeded.runs.map((id) => `/v1/runs/${id}?force=true`),
          `/v1/datasets/${seeded.dataset}?force=true`,
          `/v1/models/${seeded.model}?force=true`,
        ]
      ) {
        const res = await ctx.app.request(path, { method: "DELETE" });
        await res.body?.cancel();
        assert.ok(res.status === 204 || res.status === 404, `${res.status} for DELETE ${path}`);
      }
    });
    for (const [route, { method, path }] of ordered) {
      if (method === "DELETE" || options.runsAfterDeletions === 0) continue;
      await t.step(
        `${route} (after deletions)`,
        () => exercise(route, method, path, options.runsAfterDeletions),
      );
    }

    const templates = [...new Set([...pairs.values()].map((p) => p.path))];
    if (options.runsAnyMethod === 0) return;
    await t.step("any method on any path", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...METHODS),
          fc.constantFrom(...templates),
          fc.array(arb.segment("any"), { minLength: 2, maxLength: 2 }),
          arb.query("any"),
          arb.body("any"),
          async (method, template, s, q, b) => {
            await check(ctx.app, {
              method,
              path: fillPath(template, s),
              query: q,
              body: b,
              accept: null,
            });
          },
        ),
        { numRuns: options.runsAnyMethod },
      );
    });
  } finally {
    await ctx.close();
  }
}

const started = performance.now();

Deno.test("property: no route answers random requests with a 5xx", (t) =>
  suite(t, {
    runsPerRoute: Math.round(RUNS_PER_ROUTE * SCALE),
    runsAfterDeletions: Math.round(RUNS_AFTER_DELETIONS * SCALE),
    runsAnyMethod: Math.round(RUNS_ANY_METHOD * SCALE),
  }));

Deno.test("property: without a usable GPU, only the GPU's JSON 503 is a 5xx", (t) =>
  suite(t, {
    gpu: fakeGpu({ error: "no adapter found (test)" }),
    runsPerRoute: Math.round(RUNS_PER_ROUTE_NO_GPU * SCALE),
    runsAfterDeletions: 0,
    runsAnyMethod: 0,
  }));

if (SCALE !== 1) {
  Deno.test("fuzz report", () => {
    const histogram = Object.fromEntries([...stats.statuses].sort(([a], [b]) => a - b));
    const serverErrors = [...stats.statuses].filter(([s]) => s >= 500 && s !== 503);
    console.log(JSON.stringify({
      scale: SCALE,
      requests: stats.requests,
      wallSeconds: Math.round((performance.now() - started) / 1000),
      statuses: histogram,
      serverErrorsBut503: serverErrors.reduce((n, [, count]) => n + count, 0),
      peakRssMiB: Math.round(Math.max(stats.peakRss, Deno.memoryUsage().rss) / 2 ** 20),
      memory: stats.memory,
    }));
  });
}
