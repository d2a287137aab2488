// A study with many training ids: the simulator record stays small (a count and the first 20
// unseen ids, the rest paged at /unseen-train-examples), and a fit on batches of 200,000 ids
// keeps the event loop turning (it once stalled /healthz for seconds).
import assert from "node:assert/strict";
import { RUNS } from "../../src/runs/run_store.ts";
import { testApp } from "../helpers/app.ts";

type Ctx = Awaited<ReturnType<typeof testApp>>;

async function storeRun(ctx: Ctx, name: string, batches: string[][]): Promise<string> {
  const losses = Float32Array.from(
    { length: batches.length + 1 },
    (_, t) => 2 - 0.01 * t - 0.001 * name.length,
  );
  const run = {
    study: "big",
    name,
    testExamples: ["q"],
    steps: batches.map((batch) => ({ batch })),
    losses,
  };
  return (await ctx.store.get(RUNS).create(run, "json")).id;
}

async function fitAndWait(ctx: Ctx, trainRuns: string[]): Promise<string> {
  const res = await ctx.app.request("/v1/simulators", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ study: "big", kind: "linear", trainRuns, lambda: 0.01 }),
  });
  assert.equal(res.status, 202, await res.clone().text());
  const { simulator, job } = await res.json();
  await (await ctx.app.request(`/v1/jobs/${job}/events`)).text();
  const sim = await (await ctx.app.request(`/v1/simulators/${simulator.id}`)).json();
  assert.equal(sim.status, "ready", JSON.stringify(sim));
  return simulator.id;
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, k) => `${prefix}-${String(k).padStart(6, "0")}`);

Deno.test("large study: the simulator record holds a count; the unseen ids page", async () => {
  const ctx = await testApp();
  try {
    const fitted = await storeRun(ctx, "fitted", [ids("a", 3), ids("a", 2)]);
    const unseen = ids("u", 25_000);
    await storeRun(ctx, "not-fitted", [unseen.slice(0, 12_500), unseen.slice(12_500)]);
    const id = await fitAndWait(ctx, [fitted]);

    const record = await ctx.app.request(`/v1/simulators/${id}`);
    const text = await record.text();
    assert.ok(text.length < 4_000, `the record is ${text.length} bytes`);
    assert.deepEqual(JSON.parse(text).unseenTrainExamples, {
      ids: unseen.slice(0, 20),
      total: 25_000,
    });
    const list = await (await ctx.app.request("/v1/simulators?study=big")).text();
    assert.ok(list.length < 4_000, `the list is ${list.length} bytes`);

    const paged: string[] = [];
    for (let offset = 0; offset < 25_000; offset += 10_000) {
      const res = await ctx.app.request(
        `/v1/simulators/${id}/unseen-train-examples?limit=10000&offset=${offset}`,
      );
      assert.equal(res.status, 200);
      const page = await res.json();
      assert.equal(page.total, 25_000);
      assert.equal(page.limit, 10_000);
      assert.equal(page.offset, offset);
      paged.push(...page.unseenTrainExamples);
    }
    assert.deepEqual(paged, unseen);
    const beyond = await ctx.app.request(
      `/v1/simulators/${id}/unseen-train-examples?offset=25000`,
    );
    assert.deepEqual((await beyond.json()).unseenTrainExamples, []);
    assert.equal(
      (await ctx.app.request(`/v1/simulators/${id}/unseen-train-examples?limit=10001`)).status,
      400,
    );
    assert.equal(
      (await ctx.app.request("/v1/simulators/nope/unseen-train-examples")).status,
      404,
    );
  } finally {
    await ctx.close();
  }
});

Deno.test("large study: a fit on 200,000-id batches keeps the event loop turning", async () => {
  const BATCH = 200_000;
  const ctx = await testApp({ env: { SIMFLUENCE_MAX_BATCH_SIZE: String(BATCH) } });
  try {
    const universe = ids("e", BATCH + 20_000);
    const batches = [0, 20_000].map((start) => universe.slice(start, start + BATCH));
    const run = await storeRun(ctx, "wide", batches);
    await ctx.app.request("/healthz"); // the first request compiles the routes: not the fit's

    let last = performance.now();
    let longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 5);
    try {
      await fitAndWait(ctx, [run]);
    } finally {
      clearInterval(timer);
    }
    assert.ok(longest < 250, `the event loop stalled for ${Math.round(longest)} ms`);
  } finally {
    await ctx.close();
  }
});
