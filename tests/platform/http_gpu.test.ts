// HTTP on the real GPU runtime: /v1/device and /readyz describe the actual adapter and the backend
// its kernels run on, and each job's row names that backend.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { gpuTest, testBackend, testRuntime } from "../helpers/gpu.ts";
import { fakeGpu, testApp } from "../helpers/app.ts";

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
    const description = runtime.gpu.describe().description;
    assert.equal(body.description, description);
    assert.equal(
      body.limits.maxStorageBufferBindingSize,
      runtime.device.limits.maxStorageBufferBindingSize,
    );
    assert.ok(Array.isArray(body.features));
    assert.deepEqual(body.kernelConfig, { matmul: "test" });
    // The backend the kernels run on: the test runtime's (SIMFLUENCE_BACKEND, webgpu unless set).
    assert.deepEqual(body.computeBackend, {
      name: runtime.backend,
      reason: runtime.backendReason,
    });
    assert.equal(runtime.backend, testBackend() === "cpu" ? "cpu" : "webgpu");
    if (/llvmpipe|lavapipe/i.test(description)) assert.equal(body.softwareFallback, true);
    const ready = await ctx.app.request("/readyz");
    assert.equal(ready.status, 200);
    await ready.body?.cancel();
    await ctx.close();
  },
});

Deno.test({
  name: "a job records the backend of the node that ran it; without a runtime, none",
  ...gpuTest,
  async fn() {
    const runtime = await testRuntime();
    for (const gpu of [gpuFromRuntime(runtime, () => ({}), { ownsRuntime: false }), fakeGpu()]) {
      const ctx = await testApp({ gpu });
      try {
        const job = ctx.jobs.submit("no-kind-closure", {}, () => Promise.resolve({ ok: true }));
        assert.equal(job.backend, null); // queued: not started anywhere yet
        for (let i = 0; i < 200 && ctx.jobs.get(job.id)?.status !== "succeeded"; i++) {
          await new Promise((r) => setTimeout(r, 10));
        }
        const res = await ctx.app.request(`/v1/jobs/${job.id}`);
        const body = await res.json();
        assert.equal(res.status, 200, JSON.stringify(body));
        assert.equal(body.backend, gpu.runtime ? runtime.backend : null);
      } finally {
        await ctx.close();
      }
    }
  },
});
