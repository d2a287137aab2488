// Autotuning: the cache file, timing helpers, and tuneMatmul (measures once, then reuses its
// choice and the cache file keyed by adapter).
import assert from "node:assert/strict";
import {
  adapterKey,
  median,
  readTuneCache,
  removeStaleTuneTemps,
  timeGpu,
  writeTuneCache,
} from "../../src/gpu/autotune.ts";
import { forgetMatmulTuning, matmulConfig, tuneMatmul } from "../../src/gpu/kernels/matmul.ts";
import {
  candidatesFor,
  configName,
  MATMUL_TUNE_VERSION,
} from "../../src/gpu/kernels/matmul_configs.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("start-up removes the temporary files of cache writes that were never renamed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/autotune.json`;
    await writeTuneCache(file, "gpu A", "matmul", { x: 1 });
    await Deno.writeTextFile(`${file}.4242.tmp`, '{"half');
    await Deno.writeTextFile(`${dir}/other.json.7.tmp`, "not ours");
    assert.equal(await removeStaleTuneTemps(file), 1);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["autotune.json", "other.json.7.tmp"]);
    assert.deepEqual(await readTuneCache(file, "gpu A", "matmul"), { x: 1 });
    assert.equal(await removeStaleTuneTemps(`${dir}/missing/autotune.json`), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("median of odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("tune cache keeps other adapters' and kernels' entries", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/sub/tune.json`;
    assert.equal(await readTuneCache(file, "gpu A", "matmul"), null);
    await writeTuneCache(file, "gpu A", "matmul", { x: 1 });
    await writeTuneCache(file, "gpu B", "matmul", { x: 2 });
    await writeTuneCache(file, "gpu A", "softmax", { y: 3 });
    assert.deepEqual(await readTuneCache(file, "gpu A", "matmul"), { x: 1 });
    assert.deepEqual(await readTuneCache(file, "gpu B", "matmul"), { x: 2 });
    assert.deepEqual(await readTuneCache(file, "gpu A", "softmax"), { y: 3 });
    await Deno.writeTextFile(file, "{ not json");
    assert.equal(await readTuneCache(file, "gpu A", "matmul"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "timeGpu warms up, then takes the median of synced runs",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    let calls = 0;
    const ms = await timeGpu(rt, () => {
      calls++;
    }, { warmup: 2, reps: 3 });
    assert.equal(calls, 5);
    assert.ok(ms >= 0 && ms < 1000);
  },
});

Deno.test({
  name: "tuneMatmul measures every candidate once, caches by adapter, and reuses the cache",
  ...gpuTest,
  fn: async () => {
    const rt = await testRuntime();
    const dir = await Deno.makeTempDir();
    const cacheFile = `${dir}/tune.json`;
    try {
      forgetMatmulTuning(rt);
      const first = tuneMatmul(rt, { cacheFile, quick: true });
      assert.equal(
        tuneMatmul(rt, { cacheFile, quick: true }),
        first,
        "concurrent calls share one tuning",
      );
      const report = await first;
      assert.equal(report.source, "tuned");
      const gflops = (report.tuning as { gflops: Record<string, unknown> }).gflops;
      const candidates = candidatesFor(rt.gpu.describe().isFallbackAdapter);
      assert.deepEqual(Object.keys(gflops).sort(), candidates.map(configName).sort());
      const fastName = (report.fast as { name: string }).name;
      const best = Math.max(
        ...Object.values(gflops).filter((v): v is number => typeof v === "number"),
      );
      assert.equal(gflops[fastName], best, "the fastest candidate is chosen");

      const cached = await readTuneCache(cacheFile, adapterKey(rt), "matmul");
      assert.equal(cached?.version, MATMUL_TUNE_VERSION);

      // A fresh state reads the file instead of measuring (unprobed: whether a probe finds the
      // choice faster now depends on the machine's load; tests/gpu/retune.test.ts covers it).
      forgetMatmulTuning(rt);
      const again = await tuneMatmul(rt, { cacheFile, probe: false });
      assert.equal(again.source, "cache");
      assert.deepEqual(again.fast, report.fast);
      assert.deepEqual(matmulConfig(rt).general, report.general);
    } finally {
      forgetMatmulTuning(rt);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
