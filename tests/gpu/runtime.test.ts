import assert from "node:assert/strict";
import { DeviceLostError } from "../../src/gpu/device.ts";
import { HOST_LIMITS } from "../../src/gpu/host/host_device.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";
import { ShaderCompileError } from "../../src/gpu/shaders.ts";
import { fill } from "../../src/gpu/kernels/fill.ts";
import { gpuTest, testRuntime, wgslOnly } from "../helpers/gpu.ts";

Deno.test("runtime describes its adapter and the limits it asked for", gpuTest, async () => {
  const rt = await testRuntime();
  const info = rt.gpu.describe();
  assert.equal(typeof info.description, "string");
  // The CPU backend by name opens no adapter: its stand-in carries llvmpipe's limits.
  const adapterMax = rt.gpu.adapter
    ? (rt.gpu.adapter.limits as unknown as Record<string, number>).maxStorageBufferBindingSize
    : HOST_LIMITS.maxStorageBufferBindingSize;
  assert.equal(info.limits.maxStorageBufferBindingSize, adapterMax);
  assert.ok(info.limits.maxBufferSize >= 256 * 1024 * 1024);
});

Deno.test("tensors upload, fill and read back in one batch, views included", gpuTest, async () => {
  const rt = await testRuntime();
  const a = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = rt.zeros([7]);
  await fill(rt, b.view([3], [1], 2), -1.5);
  const [ra, rb, row1] = await rt.read([a, b, a.select(1)]);
  assert.deepEqual([...ra], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...rb], [0, 0, -1.5, -1.5, -1.5, 0, 0]);
  assert.deepEqual([...row1], [4, 5, 6]);
  assert.throws(() => rt.tensor([1, 2, 3], [2, 2]), RangeError);
  assert.throws(() => a.reshape([4]), RangeError);
  assert.deepEqual(a.transposeView().strides, [1, 3]);
  assert.equal(a.transposeView().isContiguous, false);
  await assert.rejects(rt.read([a.transposeView()]), /not contiguous/);
  a.dispose();
  b.dispose();
  await assert.rejects(rt.read([a]), /disposed/);
});

Deno.test("shader compile errors name the file and the file's own line", {
  ...gpuTest,
  ...wgslOnly,
}, async () => {
  const rt = await testRuntime();
  // fill.wgsl uses WG without declaring it; leaving the define out is a compile error at its use.
  const error = await rt.pipelines.get({ shader: "fill", defines: { OTHER: 1 } }).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof ShaderCompileError);
  assert.equal(error.file, "shaders/fill.wgsl");
  const source = await Deno.readTextFile(new URL("../../shaders/fill.wgsl", import.meta.url));
  assert.match(source.split("\n")[error.line - 1], /WG/);
});

Deno.test("pipelines compile once per specialisation", gpuTest, async () => {
  const rt = await testRuntime();
  const first = await rt.pipelines.get({ shader: "fill", defines: { WG: 32 } });
  const again = await rt.pipelines.get({ shader: "fill", defines: { WG: 32 } });
  const other = await rt.pipelines.get({ shader: "fill", defines: { WG: 16 } });
  assert.equal(first, again);
  assert.notEqual(first, other);
});

Deno.test("device loss fails in-flight work and the device is re-acquired", gpuTest, async () => {
  let reacquired = 0;
  const rt = await GpuRuntime.create({ onReacquired: () => reacquired++ });
  try {
    const before = rt.tensor([1, 2, 3]);
    const generation = rt.generation;
    rt.device.destroy();
    await assert.rejects(rt.read([before]), DeviceLostError);
    await rt.gpu.ready();
    assert.equal(reacquired, 1);
    assert.equal(rt.generation, generation + 1);
    assert.ok(rt.gpu.healthy);
    // Tensors of the lost device are refused with a clear error instead of hanging.
    assert.throws(() => rt.copy(before, before), /lost/);
    const after = rt.tensor([4, 5]);
    await fill(rt, after, 9);
    assert.deepEqual([...(await rt.readOne(after))], [9, 9]);
  } finally {
    rt.close();
  }
});

Deno.test("concurrent compilations report errors against the right file", {
  ...gpuTest,
  ...wgslOnly,
}, async () => {
  const rt = await testRuntime();
  const results = await Promise.allSettled([
    rt.pipelines.get({ shader: "fill", defines: { WG: 8 } }),
    rt.pipelines.get({ shader: "fill", defines: { NOT_WG: 3 } }),
    rt.pipelines.get({ shader: "fill", defines: { WG: 4 } }),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  const error = (results[1] as PromiseRejectedResult).reason;
  assert.ok(error instanceof ShaderCompileError);
  assert.equal(error.file, "shaders/fill.wgsl");
  // A failed specialisation is not cached: asking again compiles (and fails) again.
  await assert.rejects(rt.pipelines.get({ shader: "fill", defines: { NOT_WG: 3 } }));
});

Deno.test("scratch textures are reused by role and size", { ...gpuTest, ...wgslOnly }, async () => {
  const rt = await testRuntime();
  const a = rt.scratchTexture("test-a", 3, 5);
  assert.equal(rt.scratchTexture("test-a", 3, 5), a, "same role and size: the same view");
  assert.notEqual(rt.scratchTexture("test-a", 3, 6), a);
  assert.notEqual(rt.scratchTexture("test-b", 3, 5), a);
  assert.equal(rt.scratchTexture("test-a", 3, 5), a, "still cached after other sizes");
});

Deno.test("runtime counts live and peak tensor bytes", gpuTest, async () => {
  const rt = await testRuntime();
  rt.resetPeakBytes();
  const start = rt.liveBytes;
  const a = rt.zeros([1000]);
  const b = rt.tensor(new Float32Array(500));
  assert.equal(rt.liveBytes - start, 6000);
  a.dispose();
  assert.equal(rt.liveBytes - start, 2000);
  assert.equal(rt.peakBytes - start, 6000);
  b.dispose();
  assert.equal(rt.liveBytes, start);
});
