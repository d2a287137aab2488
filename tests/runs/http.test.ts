import assert from "node:assert/strict";
import fc from "fast-check";
import { unzipSync } from "fflate";
import { LOSS_FILE, TRAIN_FILE } from "../../src/runs/gptfluence_format.ts";
import { testApp } from "../helpers/app.ts";
import { RUNS } from "../../src/runs/run_store.ts";

function runBody(overrides: Record<string, unknown> = {}) {
  return {
    study: "s1",
    name: "run-1",
    testExamples: ["q1", "q2"],
    steps: [{ batch: ["e1", "e2"], lr: 0.1 }, { batch: ["e2", "e3"] }],
    losses: [[2, 3], [1.5, 2.5], [1.25, 2]],
    ...overrides,
  };
}

function post(
  app: { request: (p: string, i: RequestInit) => Response | Promise<Response> },
  body: unknown,
  type = "application/json",
) {
  return app.request("/v1/runs", {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function errorOf(res: Response) {
  const body = await res.json();
  assert.ok(body.error, "JSON error body");
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

Deno.test("runs: upload in each format, list, read, export and delete", async (t) => {
  const ctx = await testApp();
  try {
    let jsonId = "";
    await t.step("JSON upload answers 201 with the run's shape", async () => {
      const res = await post(ctx.app, runBody());
      assert.equal(res.status, 201);
      const run = await res.json();
      assert.deepEqual(
        [run.steps, run.testExamples, run.distinctTrainExamples, run.source],
        [2, 2, 3, "json"],
      );
      jsonId = run.id;
    });
    await t.step("NDJSON upload streams in; columns are reordered to the study's", async () => {
      const lines = [
        { study: "s1", name: "run-2", testExamples: ["q2", "q1"], initialLosses: [3, 2] },
        { batch: ["e4"], losses: [2.75, 1.75] },
      ].map((l) => JSON.stringify(l)).join("\n");
      const res = await post(ctx.app, lines, "application/x-ndjson");
      assert.equal(res.status, 201);
      const run = await res.json();
      const traj = await (await ctx.app.request(`/v1/runs/${run.id}/trajectories?tests=q1`)).json();
      assert.deepEqual(traj.trajectories, { q1: [2, 1.75] });
    });
    await t.step("GPTfluence files import through multipart", async () => {
      const form = new FormData();
      form.set("study", "s1");
      form.set("name", "run-3");
      form.set(TRAIN_FILE, new File(['{"step": 1, "samples_id": [5, 6]}\n'], TRAIN_FILE));
      form.set(
        LOSS_FILE,
        new File([
          '{"id": "q1", "loss_trajectory": [{"step": 0, "loss": 2}, {"step": 1, "loss": 1}]}\n' +
          '{"id": "q2", "loss_trajectory": [{"step": 0, "loss": 3}, {"step": 1, "loss": 2}]}\n',
        ], LOSS_FILE),
      );
      const res = await ctx.app.request("/v1/runs/import", { method: "POST", body: form });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await res.json()).source, "gptfluence");
    });
    await t.step("list pages by study", async () => {
      const page = await (await ctx.app.request("/v1/runs?study=s1&limit=2")).json();
      assert.equal(page.total, 3);
      assert.equal(page.runs.length, 2);
      const other = await (await ctx.app.request("/v1/runs?study=nope")).json();
      assert.equal(other.total, 0);
    });
    await t.step("export as json, ndjson and a GPTfluence zip", async () => {
      const asJson = await (await ctx.app.request(`/v1/runs/${jsonId}?format=json`)).json();
      assert.deepEqual(asJson, runBody());
      const nd = await ctx.app.request(`/v1/runs/${jsonId}?format=ndjson`);
      assert.equal(nd.headers.get("content-type"), "application/x-ndjson");
      assert.equal((await nd.text()).trim().split("\n").length, 3);
      const zip = await ctx.app.request(`/v1/runs/${jsonId}?format=gptfluence`);
      assert.equal(zip.headers.get("content-type"), "application/zip");
      const files = unzipSync(new Uint8Array(await zip.arrayBuffer()));
      const train = new TextDecoder().decode(files[TRAIN_FILE]).trim().split("\n");
      assert.deepEqual(JSON.parse(train[1]), { step: 2, samples_id: ["e2", "e3"] });
    });
    await t.step("unknown test ids in trajectories are a 400 listing them", async () => {
      const res = await ctx.app.request(`/v1/runs/${jsonId}/trajectories?tests=q1,zz`);
      assert.equal(res.status, 400);
      assert.deepEqual((await errorOf(res)).details.unknown, { ids: ["zz"], total: 1 });
    });
    await t.step("delete removes the run and its losses file", async () => {
      const before = [...Deno.readDirSync(`${ctx.dataDir}/tensors`)].length;
      assert.equal((await ctx.app.request(`/v1/runs/${jsonId}`, { method: "DELETE" })).status, 204);
      assert.equal((await ctx.app.request(`/v1/runs/${jsonId}`)).status, 404);
      assert.equal((await ctx.app.request(`/v1/runs/${jsonId}`, { method: "DELETE" })).status, 404);
      assert.equal([...Deno.readDirSync(`${ctx.dataDir}/tensors`)].length, before - 1);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("runs: every validation rule answers a precise 4xx and stores nothing", async (t) => {
  const ctx = await testApp({ env: { SIMFLUENCE_MAX_BODY_MB: "0.01" } });
  try {
    assert.equal((await post(ctx.app, runBody())).status, 201);
    const cases: [string, unknown, number, RegExp, string?][] = [
      [
        "negative loss",
        runBody({ name: "x", losses: [[2, 3], [1.5, -1], [1, 2]] }),
        400,
        /losses\.1\.1.*negative/,
      ],
      [
        "non-number loss",
        runBody({ name: "x", losses: [[2, 3], [1.5, "NaN"], [1, 2]] }),
        400,
        /losses/,
      ],
      [
        "ragged rows",
        runBody({ name: "x", losses: [[2, 3], [1.5], [1, 2]] }),
        400,
        /losses\.1.*1 losses/,
      ],
      [
        "row count",
        runBody({ name: "x", losses: [[2, 3], [1, 2]] }),
        400,
        /2 rows but 2 steps need 3/,
      ],
      [
        "empty batch",
        runBody({ name: "x", steps: [{ batch: [] }, { batch: ["e"] }] }),
        400,
        /steps\.0\.batch.*empty/,
      ],
      [
        "long id",
        runBody({ name: "x", steps: [{ batch: ["e".repeat(257)] }, { batch: ["e"] }] }),
        400,
        /257/,
      ],
      ["unknown field", { ...runBody({ name: "x" }), extra: 1 }, 400, /extra|unrecognized/i],
      ["name taken", runBody(), 409, /already has a run named/],
      ["other test examples", runBody({ name: "x", testExamples: ["q1", "q9"] }), 409, /differ/],
      ["malformed JSON", '{"study": ', 400, /malformed|JSON/i],
      ["wrong content type", "a,b", 415, /Content-Type/, "text/csv"],
      [
        "too large",
        runBody({ name: "x", steps: Array(2000).fill({ batch: ["e1", "e2"] }) }),
        413,
        /limit/,
      ],
    ];
    for (const [name, body, status, pattern, type] of cases) {
      await t.step(name, async () => {
        const res = await post(ctx.app, body, type);
        assert.equal(res.status, status);
        const error = await errorOf(res);
        assert.match(`${error.message} ${JSON.stringify(error.details)}`, pattern);
      });
    }
    await t.step("the 409 for other test examples lists the difference", async () => {
      const res = await post(ctx.app, runBody({ name: "x", testExamples: ["q1", "q9"] }));
      const { details } = await errorOf(res);
      assert.deepEqual(details.missing, { ids: ["q2"], total: 1 });
      assert.deepEqual(details.unexpected, { ids: ["q9"], total: 1 });
    });
    const list = await (await ctx.app.request("/v1/runs")).json();
    assert.equal(list.total, 1, "only the first, valid run is stored");
  } finally {
    await ctx.close();
  }
});

Deno.test("runs: random bodies get 4xx or 201, never 5xx; rejected ones leave the store unchanged", async () => {
  const ctx = await testApp();
  try {
    const id = fc.oneof(fc.constantFrom("e1", "e2", "q1", "q2", ""), fc.string({ maxLength: 5 }));
    const loss = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constant(-1),
      fc.constant(1),
    );
    const body = fc.oneof(
      fc.record({
        study: fc.constantFrom("s", "t", ""),
        name: fc.string({ maxLength: 4 }),
        testExamples: fc.array(id, { maxLength: 3 }),
        steps: fc.array(fc.record({ batch: fc.array(id, { maxLength: 3 }) }), { maxLength: 3 }),
        losses: fc.array(fc.array(loss, { maxLength: 3 }), { maxLength: 4 }),
      }, { requiredKeys: [] }),
      fc.jsonValue(),
    );
    const tensorFiles = () => [...Deno.readDirSync(`${ctx.dataDir}/tensors`)].length;
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const runsBefore = ctx.store.get(RUNS).list({ limit: 1, offset: 0 }).total;
        const filesBefore = tensorFiles();
        const res = await post(ctx.app, b);
        await res.body?.cancel();
        assert.ok(
          res.status === 201 || (res.status >= 400 && res.status < 500),
          `status ${res.status}`,
        );
        if (res.status !== 201) {
          assert.equal(ctx.store.get(RUNS).list({ limit: 1, offset: 0 }).total, runsBefore);
          assert.equal(tensorFiles(), filesBefore);
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  } finally {
    await ctx.close();
  }
});

Deno.test("runs: a chunked NDJSON upload past the body limit is a 413 and stores nothing", async () => {
  const ctx = await testApp({ env: { SIMFLUENCE_MAX_BODY_MB: "0.002" } }); // 2097 bytes
  try {
    const header = { study: "s1", name: "big", testExamples: ["q1"], initialLosses: [2] };
    const step = JSON.stringify({ batch: ["e1", "e2"], losses: [1.5] }) + "\n";
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const encode = (s: string) => new TextEncoder().encode(s);
        controller.enqueue(encode(JSON.stringify(header) + "\n"));
        for (let i = 0; i < 100; i++) controller.enqueue(encode(step));
        controller.close();
      },
    });
    const res = await ctx.app.request("/v1/runs", {
      method: "POST",
      body,
      headers: { "content-type": "application/x-ndjson", "transfer-encoding": "chunked" },
    });
    assert.equal(res.status, 413);
    assert.equal((await errorOf(res)).code, "payload_too_large");
    const list = await (await ctx.app.request("/v1/runs?study=s1")).json();
    assert.equal(list.runs.length, 0);
    const files = [...Deno.readDirSync(`${ctx.dataDir}/tensors`)].map((e) => e.name);
    assert.ok(!files.some((f) => f.endsWith(".safetensors")), `leftover files: ${files}`);
  } finally {
    await ctx.close();
  }
});
