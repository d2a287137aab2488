// The one HTTP test on the real GPU runtime: /v1/device and /readyz describe the actual adapter.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { testApp } from "../helpers/app.ts";

Deno.test({
  name: "device route on the real adapter",
  ...gpuTest,
  async fn() {
    const runtime = await testRuntime();
    const gpu = gpuFromRuntime(runtime, () => ({ matmul: "test" }), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    const device = await ctx.app.request("/v1/device");
    assert.equal(device.status, 200);
    const body = await device.json();
    const adapter = runtime.gpu.adapter.info;
    assert.equal(body.description, adapter.description);
    assert.equal(
      body.limits.maxStorageBufferBindingSize,
      runtime.device.limits.maxStorageBufferBindingSize,
    );
    assert.ok(Array.isArray(body.features));
    assert.deepEqual(body.kernelConfig, { matmul: "test" });
    if (/llvmpipe|lavapipe/i.test(adapter.description)) assert.equal(body.softwareFallback, true);
    const ready = await ctx.app.request("/readyz");
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    await ctx.close();
  },
});
