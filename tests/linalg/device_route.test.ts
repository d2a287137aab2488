// GET /v1/device reports the CPU's linear algebra: the backend in use, the library and the apt
// line, with a GPU (200) and without one (503 details).
import assert from "node:assert/strict";
import { OPENBLAS_INSTALL } from "../../src/linalg/openblas.ts";
import { linearAlgebraStatus } from "../../src/linalg/select.ts";
import { fakeGpu, testApp } from "../helpers/app.ts";
import { openblasPresent } from "./helpers.ts";

Deno.test("GET /v1/device: linearAlgebra names the backend, library and install line", async () => {
  const want = linearAlgebraStatus();
  const ctx = await testApp({ gpu: fakeGpu() });
  try {
    const res = await ctx.app.request("/v1/device");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.linearAlgebra, want);
    assert.equal(body.linearAlgebra.install, OPENBLAS_INSTALL);
    // Where the library is missing the route says so (and the TypeScript routines serve).
    assert.equal(body.linearAlgebra.backend, openblasPresent ? "openblas" : "typescript");
  } finally {
    await ctx.close();
  }
  const noGpu = await testApp({ gpu: fakeGpu({ error: "no adapter; install mesa" }) });
  try {
    const res = await noGpu.app.request("/v1/device");
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.code, "gpu_unavailable");
    assert.equal(error.message, "no adapter; install mesa");
    assert.deepEqual(error.details.linearAlgebra, want);
  } finally {
    await noGpu.close();
  }
});
