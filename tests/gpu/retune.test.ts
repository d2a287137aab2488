// Re-tuning: a cached choice measured on a busy machine is measured again, detected by its
// figure against the adapter's best or by a probe of it now; POST /v1/device/tune forces it.
import assert from "node:assert/strict";
import { adapterKey, readTuneCache, writeTuneCache } from "../../src/gpu/autotune.ts";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { forgetMatmulTuning, tuneMatmul } from "../../src/gpu/kernels/matmul.ts";
import {
  candidatesFor,
  configName,
  MATMUL_TUNE_VERSION,
} from "../../src/gpu/kernels/matmul_configs.ts";
import { retuneReason } from "../../src/gpu/retune.ts";
import { fakeGpu, parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("retuneReason: far below the adapter's best, or far slower than a probe now", () => {
  assert.equal(retuneReason({ figure: 30, best: 31 }, 35), null);
  assert.equal(retuneReason({ figure: 30, best: null }, null), null);
  assert.match(retuneReason({ figure: 7.8, best: 30 }, null)!, /below 0.5 of the 30 GFLOP\/s/);
  assert.match(retuneReason({ figure: 7.8, best: 7.8 }, 29.5)!, /busy machine/);
  assert.equal(retuneReason({ figure: 7.8, best: 7.8 }, 15), null, "2x is the line");
  assert.match(retuneReason({ figure: null, best: 30 }, null)!, /no figure/);
});

Deno.test({
  name: "tuneMatmul re-tunes a cached choice that a busy machine measured, and keeps a sound one",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    const dir = await Deno.makeTempDir();
    const cacheFile = `${dir}/tune.json`;
    const key = adapterKey(rt);
    // Two quick-to-compile candidates keep each tuning short (the decision does not depend on how
    // many there are): a vec4 one and a general (strided) one.
    const all = candidatesFor(rt.gpu.describe().isFallbackAdapter);
    const chosen = all.find((c) => c.kernel === "vec4")!;
    const general = all.find((c) => c.kernel === "strided")!;
    const candidates = [chosen, general];
    const cache = (figure: number, bestGflops: number) =>
      writeTuneCache(cacheFile, key, "matmul", {
        version: MATMUL_TUNE_VERSION,
        fast: chosen,
        general,
        gflops: { [configName(chosen)]: figure },
        bestGflops,
      });
    const tune = () => {
      forgetMatmulTuning(rt);
      return tuneMatmul(rt, { cacheFile, quick: true, candidates });
    };
    try {
      // Far below what the adapter measured before: measured again, the best kept.
      await cache(0.5, 1000);
      const below = await tune();
      assert.equal(below.source, "tuned");
      assert.match(String((below.tuning as { retuned: string }).retuned), /below 0.5 of the 1000/);
      assert.equal((await readTuneCache(cacheFile, key, "matmul"))?.bestGflops, 1000);

      // No better figure on record, but the choice runs far faster now than its figure.
      await cache(0.001, 0.001);
      const probed = await tune();
      assert.equal(probed.source, "tuned");
      assert.match(String((probed.tuning as { retuned: string }).retuned), /busy machine/);
      const stored = await readTuneCache(cacheFile, key, "matmul");
      assert.ok((stored?.bestGflops as number) > 0.001, "the fresh figures are cached");

      // A figure no probe beats by 2x: the cache is trusted.
      await cache(1e6, 1e6);
      const kept = await tune();
      assert.equal(kept.source, "cache");
    } finally {
      forgetMatmulTuning(rt);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("POST /v1/device/tune: 503 without a GPU, 400 for an unknown field", async () => {
  const ctx = await testApp({ gpu: fakeGpu() });
  const post = (body: string) =>
    ctx.app.request("/v1/device/tune", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  assert.equal((await post("{}")).status, 503);
  const bad = await post('{"quik": true}');
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.details.field, "quik");
  await ctx.close();
});

Deno.test({
  name: "POST /v1/device/tune measures again as a job and caches the result",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    const gpu = gpuFromRuntime(rt, () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    try {
      const res = await ctx.app.request("/v1/device/tune", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ quick: true }),
      });
      assert.equal(res.status, 202);
      const { job } = await res.json();
      const events = parseSse(await (await ctx.app.request(`/v1/jobs/${job}/events`)).text());
      assert.equal(events.at(-1)?.event, "done", JSON.stringify(events.at(-1)));
      const record = await (await ctx.app.request(`/v1/jobs/${job}`)).json();
      assert.equal(record.result.source, "tuned");
      assert.equal(record.result.tuning.retuned, "requested");
      const cached = await readTuneCache(`${ctx.dataDir}/autotune.json`, adapterKey(rt), "matmul");
      assert.equal(configName(cached?.fast as never), record.result.fast.name);
      assert.ok((cached?.bestGflops as number) > 0);
    } finally {
      forgetMatmulTuning(rt);
      await ctx.close();
    }
  },
});
