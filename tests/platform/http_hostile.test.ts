// Hostile input the property test does not generate: control characters, bidi overrides and lone
// surrogates in names and ids; path traversal in every name and id field; deeply nested JSON; huge
// numbers and -0; duplicate JSON keys; zip bombs in GPTfluence imports; safetensors headers that
// claim terabytes; tokenizer.json files that would take minutes or gigabytes to load. Each answers
// a 4xx JSON error (or is stored verbatim where that is the stated rule), never a 5xx.
import assert from "node:assert/strict";
import { zipSync } from "fflate";
import { join } from "node:path";
import { LOSS_FILE, TRAIN_FILE } from "../../src/runs/gptfluence_format.ts";
import { MAX_ARCHIVE_ENTRIES } from "../../src/runs/gptfluence_archive.ts";
import { testApp } from "../helpers/app.ts";
import { nestedJson, safetensorsWith, zipBomb } from "../helpers/hostile_inputs.ts";
import { tinyTokenizerJson } from "../helpers/tiny_tokenizer.ts";

type Ctx = Awaited<ReturnType<typeof testApp>>;
type AppLike = Ctx["app"];

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };
const NDJSON = "application/x-ndjson";
const MiB = 1024 * 1024;

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function postText(app: AppLike, path: string, type: string, body: string) {
  return app.request(path, { method: "POST", headers: { "content-type": type }, body });
}

function postForm(app: AppLike, path: string, fields: Record<string, string | Uint8Array>) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string") form.set(name, value);
    else form.set(name, new File([value as Uint8Array<ArrayBuffer>], name));
  }
  return app.request(path, { method: "POST", body: form });
}

/** The response's JSON after checking its status is one of `expected` (and never a 5xx). */
async function expectStatus(
  res: Response | Promise<Response>,
  expected: number | number[],
  label: string,
) {
  const r = await res;
  const text = await r.text();
  const allowed = Array.isArray(expected) ? expected : [expected];
  assert.ok(allowed.includes(r.status), `${label}: ${r.status} ${text.slice(0, 400)}`);
  return JSON.parse(text || "null");
}

function run(study: string, name: string, tests = ["q1", "q2"], batch = ["e1", "e2"]) {
  return {
    study,
    name,
    testExamples: tests,
    steps: [{ batch }, { batch: [batch[0]] }],
    losses: [[2, 3], [1.5, 2.5], [1, 2]].map((row) => row.slice(0, tests.length)),
  };
}

function ndjsonRun(study: string, name: string, tests = ["q1"], batch = ["e1"]) {
  return [
    JSON.stringify({ study, name, testExamples: tests, initialLosses: tests.map(() => 2) }),
    JSON.stringify({ batch, losses: tests.map(() => 1) }),
  ].join("\n");
}

function gptfluenceFiles(tests = ["q1"], batch: (string | number)[] = [5, 6]) {
  return {
    train: JSON.stringify({ step: 1, samples_id: batch }) + "\n",
    loss: tests.map((id) =>
      JSON.stringify({
        id,
        loss_trajectory: [{ step: 0, loss: 2 }, { step: 1, loss: 1 }],
      })
    ).join("\n") + "\n",
  };
}

function importRun(app: AppLike, study: string, name: string, files = gptfluenceFiles()) {
  const encoder = new TextEncoder();
  return postForm(app, "/v1/runs/import", {
    study,
    name,
    [TRAIN_FILE]: encoder.encode(files.train),
    [LOSS_FILE]: encoder.encode(files.loss),
  });
}

async function withApp(
  body: (ctx: Ctx) => Promise<void>,
  options: Parameters<typeof testApp>[0] = {},
) {
  const ctx = await testApp(options);
  try {
    await body(ctx);
  } finally {
    await ctx.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** Characters names and ids may not hold, each with the code point the error must report. */
const FORBIDDEN: [string, string][] = [
  ["\u0000", "U+0000"],
  ["\u0001", "U+0001"],
  ["\n", "U+000A"],
  ["\u001b", "U+001B"],
  ["\u007f", "U+007F"],
  ["\u0085", "U+0085"],
  ["\u009f", "U+009F"],
  ["\u202e", "U+202E"],
  ["\u2066", "U+2066"],
];
/** Unusual but harmless: stored and read back exactly. */
const ALLOWED = ["naïve", "é€😀", "\u200fRTL-mark", "\u05d0\u05d1", "x y", "\ufeffbom", "%00"];

Deno.test("control characters, bidi overrides and lone surrogates in names and ids are 400s", () =>
  withApp(async ({ app }) => {
    for (const [ch, codePoint] of FORBIDDEN) {
      const bad = `st${ch}a`;
      const label = JSON.stringify(bad);
      for (
        const [field, body] of [
          ["study", run(bad, "r")],
          ["name", run("s1", bad)],
          ["testExamples.1", run("s1", "r", ["q1", bad])],
          ["steps.0.batch.1", run("s1", "r", ["q1", "q2"], ["e1", bad])],
        ] as const
      ) {
        const json = await expectStatus(postJson(app, "/v1/runs", body), 400, `JSON ${label}`);
        assert.equal(json.error.details.field, field, label);
        assert.ok(json.error.message.includes(codePoint), json.error.message);
      }
      const nd = await expectStatus(
        postText(app, "/v1/runs", NDJSON, ndjsonRun("s1", bad)),
        400,
        `NDJSON ${label}`,
      );
      assert.deepEqual([nd.error.details.line, nd.error.details.field], [1, "name"]);
      const ndBatch = await expectStatus(
        postText(app, "/v1/runs", NDJSON, ndjsonRun("s1", "r", ["q1"], [bad])),
        400,
        `NDJSON batch ${label}`,
      );
      assert.deepEqual(
        [ndBatch.error.details.line, ndBatch.error.details.field],
        [2, "step.batch.0"],
      );
      await expectStatus(importRun(app, bad, "r"), 400, `import study ${label}`);
      await expectStatus(importRun(app, "s1", bad), 400, `import name ${label}`);
      await expectStatus(
        importRun(app, "s1", "r", gptfluenceFiles(["q1", bad])),
        400,
        `import test id ${label}`,
      );
      const dataset = await expectStatus(
        postText(app, `/v1/datasets?name=${encodeURIComponent(bad)}`, NDJSON, '{"text": "a"}'),
        400,
        `dataset name ${label}`,
      );
      assert.ok(JSON.stringify(dataset.error.details).includes("name"), label);
      const example = await expectStatus(
        postText(
          app,
          "/v1/datasets?name=d",
          NDJSON,
          `{"text": "a"}\n${JSON.stringify({ id: bad, text: "b" })}`,
        ),
        400,
        `dataset id ${label}`,
      );
      assert.deepEqual([example.error.details.line, example.error.details.problem], [2, "id"]);
      const model = await expectStatus(
        postJson(app, "/v1/models", { config: TINY, seed: 1, name: bad }),
        400,
        `model name ${label}`,
      );
      assert.equal(model.error.details.field, "name", label);
      for (const field of ["study", "namePrefix"]) {
        const training = await expectStatus(
          postJson(app, "/v1/training-runs", {
            study: "s1",
            model: "m",
            dataset: "builtin:skills",
            trainExamples: 2,
            testExamples: 1,
            runs: 1,
            batchSize: 1,
            optimizer: { kind: "sgd", lr: 0.1 },
            [field]: bad,
          }),
          400,
          `training ${field} ${label}`,
        );
        assert.ok(JSON.stringify(training.error.details).includes(field), label);
      }
    }
    // A list filtered by such a study name: a 400 too, not an empty page.
    for (const list of ["/v1/runs", "/v1/simulators"]) {
      const json = await expectStatus(
        app.request(`${list}?study=${encodeURIComponent("st\u0000a")}`),
        400,
        `${list}?study=`,
      );
      assert.match(JSON.stringify(json.error), /study/);
    }
    // Lone surrogates cannot be stored as UTF-8: they would read back as U+FFFD.
    for (const bad of ["a\ud800", "\udc00b"]) {
      await expectStatus(postJson(app, "/v1/runs", run("s1", bad)), 400, "lone surrogate");
      await expectStatus(
        postJson(app, "/v1/models", { config: TINY, seed: 1, name: bad }),
        400,
        "lone surrogate model name",
      );
    }
    // Free text may hold newlines and tabs, but not NUL (SQLite would cut the text there).
    await expectStatus(
      postText(app, "/v1/datasets?name=t", NDJSON, '{"text": "line\\nnext\\ttab"}'),
      201,
      "text with a newline",
    );
    const nul = await expectStatus(
      postText(app, "/v1/datasets?name=t2", NDJSON, '{"prompt": "a\\u0000", "completion": "b"}'),
      400,
      "prompt with NUL",
    );
    assert.equal(nul.error.details.problem, "prompt");
    // Nothing was stored along the way but the one valid dataset.
    const runs = await (await app.request("/v1/runs")).json();
    assert.equal(runs.total, 0, JSON.stringify(runs));
  }));

Deno.test("names that once collided at a NUL are refused, and unusual names read back exactly", () =>
  withApp(async ({ app }) => {
    // The trial's defect: both listed as "n", and "st\u0000a" as "st".
    for (const name of ["n\u0000A", "n\u0000B"]) {
      await expectStatus(postJson(app, "/v1/runs", run("s1", name)), 400, name);
    }
    await expectStatus(postJson(app, "/v1/runs", run("st\u0000a", "r")), 400, "study");
    for (const [i, name] of ALLOWED.entries()) {
      const created = await expectStatus(
        postJson(app, "/v1/runs", run(`study ${name}`, name)),
        201,
        JSON.stringify(name),
      );
      assert.equal(created.name, name);
      const got = await (await app.request(`/v1/runs/${created.id}`)).json();
      assert.deepEqual([got.study, got.name], [`study ${name}`, name]);
      const model = await expectStatus(
        postJson(app, "/v1/models", { config: TINY, seed: i, name }),
        201,
        `model ${name}`,
      );
      const listed = await (await app.request(`/v1/models/${model.id}`)).json();
      assert.equal(listed.name, name);
    }
    const list = await (await app.request("/v1/runs?limit=100")).json();
    assert.deepEqual(list.runs.map((r: { name: string }) => r.name).sort(), [...ALLOWED].sort());
    // One megabyte of name is refused by length, not stored.
    const long = "x".repeat(MiB);
    await expectStatus(postJson(app, "/v1/runs", run("s1", long)), 400, "1 MB name");
    await expectStatus(postJson(app, "/v1/runs", run(long, "r")), 400, "1 MB study");
    await expectStatus(
      postJson(app, "/v1/models", { config: TINY, seed: 1, name: long }),
      400,
      "1 MB model name",
    );
    await expectStatus(
      postText(app, `/v1/datasets?name=${long}`, NDJSON, '{"text": "a"}'),
      400,
      "1 MB dataset name",
    );
  }));

// ---------------------------------------------------------------------------------------------

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory) found.push(...await filesUnder(dir, path));
    else found.push(path);
  }
  return found;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("path traversal in names is stored verbatim and never becomes a path", () =>
  withApp(async ({ app, dataDir }) => {
    const marker = `simfluence-traversal-${crypto.randomUUID()}`;
    const outside = join(dataDir, "..", marker);
    const names = [
      `../../../../../..${Deno.cwd()}/${marker}`,
      `../${marker}`,
      `..%2F${marker}`,
      `%2e%2e%2f${marker}`,
      `..\\..\\${marker}`,
      `/tmp/${marker}`,
      `tensors/../../${marker}`,
    ];
    for (const [i, name] of names.entries()) {
      const created = await expectStatus(postJson(app, "/v1/runs", run(name, name)), 201, name);
      assert.deepEqual([created.study, created.name], [name, name]);
      await expectStatus(
        importRun(app, `${name}-g`, name, gptfluenceFiles([name], [name])),
        201,
        `import ${name}`,
      );
      const dataset = await expectStatus(
        postText(
          app,
          `/v1/datasets?name=${encodeURIComponent(name)}`,
          NDJSON,
          JSON.stringify({ id: name, text: "a" }),
        ),
        201,
        `dataset ${name}`,
      );
      assert.equal(dataset.name, name);
      const model = await expectStatus(
        postJson(app, "/v1/models", { config: TINY, seed: i, name }),
        201,
        `model ${name}`,
      );
      assert.equal(model.name, name);
      // The export's file name keeps only safe characters.
      const zip = await app.request(`/v1/runs/${created.id}?format=gptfluence`);
      await zip.body?.cancel();
      const disposition = zip.headers.get("content-disposition") ?? "";
      assert.match(disposition, /^attachment; filename="[A-Za-z0-9._-]+\.zip"$/, disposition);
    }
    for (const path of [outside, join(Deno.cwd(), marker), `/tmp/${marker}`, `/${marker}`]) {
      assert.equal(await exists(path), false, `${path} was created`);
    }
    // Everything written lies in the data directory, named by the store, not by the client.
    for (const file of await filesUnder(dataDir)) {
      assert.ok(!file.includes(marker), `${file} carries a client's name`);
    }
    // Traversal in path ids reaches no file either: unknown ids are 404s.
    for (
      const path of [
        "/v1/runs/..%2F..%2Fetc%2Fpasswd",
        "/v1/runs/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/v1/runs/..%5C..%5Cwindows",
        "/v1/datasets/..%2Fsimfluence.db",
        "/v1/models/..%2F..%2Fsimfluence.db/weights",
        "/v1/runs/tensors%2F..%2F..%2Fx/checkpoints/1",
      ]
    ) {
      const res = await app.request(path);
      const text = await res.text();
      assert.ok([400, 404].includes(res.status), `${path}: ${res.status} ${text}`);
    }
  }));

// ---------------------------------------------------------------------------------------------

Deno.test("deeply nested JSON is a 400 (or a 413 past the body limit) on every route", () =>
  withApp(async ({ app }) => {
    const deep = nestedJson(100_000);
    const deepObject = nestedJson(100_000, "object");
    const posts = [...new Set(app.routes.filter((r) => r.method === "POST").map((r) => r.path))];
    assert.ok(posts.length >= 10, posts.join(" "));
    for (const template of posts) {
      const path = template.replace(/:[^/]+/g, "x");
      for (const body of [deep, deepObject, `{"study": ${deep}}`, `{"config": ${deepObject}}`]) {
        await expectStatus(postJson(app, path, body), [400, 404, 413, 415], `${path} deep`);
      }
    }
    const deepLine = `{"study": ${nestedJson(100_000, "array", '"s"')}}`;
    await expectStatus(postText(app, "/v1/runs", NDJSON, deepLine), 400, "NDJSON line");
    await expectStatus(postText(app, "/v1/datasets?name=d", NDJSON, deepLine), 400, "JSONL line");
    const files = { train: deepLine + "\n", loss: deepLine + "\n" };
    await expectStatus(importRun(app, "s1", "r", files), 400, "GPTfluence line");
    const weights = await (await app.request(
      `/v1/models/${
        (await expectStatus(postJson(app, "/v1/models", { config: TINY, seed: 1 }), 201, "m")).id
      }/weights`,
    )).bytes();
    for (
      const [field, text] of [
        ["config.json", deepObject],
        ["tokenizer.json", deepObject],
        [
          "tokenizer.json",
          JSON.stringify({ model: { vocab: {} }, pre: JSON.parse(nestedJson(5000)) }),
        ],
      ]
    ) {
      await expectStatus(
        postForm(app, "/v1/models", {
          "model.safetensors": weights,
          "config.json": JSON.stringify(TINY),
          [field]: new TextEncoder().encode(text),
        }),
        400,
        field,
      );
    }
    // A deep safetensors header.
    const header = new TextEncoder().encode(deep);
    const bytes = new Uint8Array(8 + header.length);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(header.length), true);
    bytes.set(header, 8);
    await expectStatus(
      postForm(app, "/v1/models", {
        "model.safetensors": bytes,
        "config.json": JSON.stringify(TINY),
      }),
      400,
      "safetensors header",
    );
  }, { env: { SIMFLUENCE_MAX_BODY_MB: "8" } }));

Deno.test("huge numbers, -0 and duplicate keys are handled deliberately", () =>
  withApp(async ({ app }) => {
    const base = JSON.stringify(run("s1", "r"));
    // 1e400 parses to Infinity, 1e300 overflows float32: both are refused as losses.
    for (
      const [what, body] of [
        ["loss 1e400", base.replace("[2,3]", "[1e400,3]")],
        ["loss 1e300", base.replace("[2,3]", "[1e300,3]")],
        ["loss -1e400", base.replace("[2,3]", "[-1e400,3]")],
        ["lr 1e400", base.replace('{"batch":["e1"]}', '{"batch":["e1"],"lr":1e400}')],
      ]
    ) {
      assert.notEqual(body, base, what);
      const json = await expectStatus(postJson(app, "/v1/runs", body), 400, what);
      assert.match(JSON.stringify(json.error), /loss|lr/, what);
    }
    for (
      const body of [
        '{"config": {"vocab_size": 1e400}, "seed": 1}',
        '{"config": {}, "seed": 1e400}',
      ]
    ) {
      await expectStatus(postJson(app, "/v1/models", body), 400, body);
    }
    for (const query of ["limit=1e400", "limit=-0.0", "offset=1e400", "limit=9007199254740993"]) {
      const res = await app.request(`/v1/runs?${query}`);
      await res.body?.cancel();
      assert.equal(res.status, 400, query);
    }
    // -0 is 0: a loss of -0 is not negative, and reads back as 0.
    const negativeZero = base.replace("[1,2]", "[-0,2]").replace(
      '{"batch":["e1"]}',
      '{"batch":["e1"],"lr":-0}',
    );
    assert.notEqual(negativeZero, base);
    const created = await expectStatus(postJson(app, "/v1/runs", negativeZero), 201, "-0");
    const trajectories = await (await app.request(`/v1/runs/${created.id}/trajectories`)).json();
    assert.deepEqual(trajectories.trajectories.q1, [2, 1.5, 0]);
    // Duplicate keys: the last one wins, as in JSON.parse, and is validated like any value.
    const dupe = (first: string, last: string) =>
      `{"study": ${JSON.stringify(first)}, ${base.slice(1, -1)}, "study": ${JSON.stringify(last)}}`
        .replace('"study":"s1",', "");
    const kept = await expectStatus(postJson(app, "/v1/runs", dupe("bad\u0000", "s2")), 201, "dup");
    assert.equal(kept.study, "s2");
    const refused = await expectStatus(
      postJson(app, "/v1/runs", dupe("s3", "bad\u0000")),
      400,
      "d",
    );
    assert.equal(refused.error.details.field, "study");
  }));

// ---------------------------------------------------------------------------------------------

Deno.test("GPTfluence archives: a round trip imports, zip bombs stop at the limit", () =>
  withApp(async ({ app }) => {
    const created = await expectStatus(postJson(app, "/v1/runs", run("s1", "r")), 201, "run");
    const exported = await (await app.request(`/v1/runs/${created.id}?format=gptfluence`)).bytes();
    const back = await expectStatus(
      postForm(app, "/v1/runs/import", { study: "s2", name: "again", archive: exported }),
      201,
      "round trip",
    );
    const [a, b] = await Promise.all(
      [created.id, back.id].map(async (id) =>
        (await app.request(`/v1/runs/${id}/trajectories`)).json()
      ),
    );
    assert.deepEqual(a.trajectories, b.trajectories);

    const before = Deno.memoryUsage().rss;
    for (
      const [label, entries] of [
        ["one file of 256 MiB", [[TRAIN_FILE, 256 * MiB], [LOSS_FILE, 1]]],
        ["two files of 12 MiB", [[TRAIN_FILE, 12 * MiB], [LOSS_FILE, 12 * MiB]]],
        ["one in a folder", [["run/" + LOSS_FILE, 32 * MiB], [TRAIN_FILE, 1]]],
      ] as [string, [string, number][]][]
    ) {
      const bomb = zipBomb(entries);
      assert.ok(bomb.length < 2 * MiB, `${label}: ${bomb.length} bytes`);
      const started = performance.now();
      const json = await expectStatus(
        postForm(app, "/v1/runs/import", { study: "s1", name: "bomb", archive: bomb }),
        413,
        label,
      );
      assert.equal(json.error.code, "archive_too_large");
      assert.ok(performance.now() - started < 10_000, `${label}: too slow`);
    }
    const grown = (Deno.memoryUsage().rss - before) / MiB;
    assert.ok(grown < 256, `RSS grew by ${grown.toFixed(0)} MiB`);

    const many = zipSync(
      Object.fromEntries(
        Array.from({ length: MAX_ARCHIVE_ENTRIES + 1 }, (_, i) => [`f${i}`, new Uint8Array(1)]),
      ),
    );
    for (
      const [label, archive] of [
        ["too many entries", many],
        ["not a zip", new TextEncoder().encode("PK\u0003\u0004 not really")],
        ["empty", new Uint8Array(0)],
        ["missing a file", zipSync({ [TRAIN_FILE]: new TextEncoder().encode("{}") })],
        // Entries other than the two files are never inflated, however large.
        ["only an unwanted file of 32 MiB", zipBomb([["notes.txt", 32 * MiB]])],
        ["truncated", exported.slice(0, exported.length >> 1)],
      ] as [string, Uint8Array][]
    ) {
      const json = await expectStatus(
        postForm(app, "/v1/runs/import", { study: "s1", name: "bad", archive }),
        400,
        label,
      );
      assert.ok(
        JSON.stringify(json.error.details).includes("archive") ||
          /line/.test(json.error.message),
        `${label}: ${JSON.stringify(json.error)}`,
      );
    }
  }, { env: { SIMFLUENCE_MAX_BODY_MB: "16" } }));

// ---------------------------------------------------------------------------------------------

Deno.test("safetensors headers that claim terabytes are 400s before anything is allocated", () =>
  withApp(async ({ app }) => {
    const TB = 2 ** 40;
    const cases: [string, Uint8Array][] = [
      ["header length of 1 TB", safetensorsWith({}, 0, BigInt(TB))],
      ["header length of 2^64-1", safetensorsWith({}, 0, 2n ** 64n - 1n)],
      [
        "a tensor ending at 1 TB",
        safetensorsWith({
          "wte.weight": { dtype: "F32", shape: [TB / 4], data_offsets: [0, TB] },
        }, 16),
      ],
      [
        "a tensor of 2^80 elements",
        safetensorsWith({
          "wte.weight": { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] },
        }, 16),
      ],
      [
        "offsets past 2^53",
        safetensorsWith({
          "wte.weight": { dtype: "F32", shape: [4], data_offsets: [0, 2 ** 60] },
        }, 16),
      ],
    ];
    const before = Deno.memoryUsage().rss;
    for (const [label, bytes] of cases) {
      const started = performance.now();
      const json = await expectStatus(
        postForm(app, "/v1/models", {
          "model.safetensors": bytes,
          "config.json": JSON.stringify(TINY),
        }),
        400,
        label,
      );
      assert.equal(json.error.code, "invalid_safetensors", label);
      assert.ok(performance.now() - started < 2_000, `${label}: too slow`);
    }
    const grown = (Deno.memoryUsage().rss - before) / MiB;
    assert.ok(grown < 128, `RSS grew by ${grown.toFixed(0)} MiB`);
  }));

Deno.test("tokenizer.json that would take minutes or gigabytes to load is refused up front", () =>
  withApp(async ({ app }) => {
    const post = (tokenizer: Record<string, unknown>, config = TINY) =>
      postJson(app, "/v1/models", { config, seed: 1, tokenizer });
    const base = tinyTokenizerJson() as Record<string, unknown> & {
      model: Record<string, unknown>;
    };
    await expectStatus(post(base), 201, "the tiny tokenizer");
    const cases: [string, Record<string, unknown>, typeof TINY?][] = [
      // A backtracking pattern: "(a+)+$" takes ~1 min to encode 29 characters.
      ["custom regex", {
        ...base,
        pre_tokenizer: { type: "Split", pattern: { Regex: "(a+)+$" }, behavior: "Isolated" },
      }],
      ["regex nested in a sequence", {
        ...base,
        normalizer: {
          type: "Sequence",
          normalizers: [{ type: "Replace", pattern: { Regex: "(x|x)*y" }, content: "" }],
        },
      }],
      ["vocabulary larger than the model's", {
        ...base,
        model: {
          ...base.model,
          vocab: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, i])),
        },
      }],
      ["300,000 vocabulary entries", {
        ...base,
        model: {
          ...base.model,
          vocab: Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`t${i}`, i])),
        },
      }, { ...TINY, vocab_size: 1 << 20 }],
      ["300,000 merges", {
        ...base,
        model: { ...base.model, merges: Array.from({ length: 300_000 }, () => "a b") },
      }],
      ["20,000 added tokens", {
        ...base,
        added_tokens: Array.from({ length: 20_000 }, (_, i) => ({ id: i, content: `<${i}>` })),
      }],
    ];
    for (const [label, tokenizer, config] of cases) {
      const started = performance.now();
      const json = await expectStatus(post(tokenizer, config), 400, label);
      assert.match(json.error.code, /invalid_tokenizer|invalid_model_config/, label);
      assert.ok(performance.now() - started < 5_000, `${label}: too slow`);
    }
  }));
