// SIMFLUENCE_BACKEND: auto takes the CPU only on a software adapter with OpenBLAS; webgpu and cpu
// are taken as asked, and cpu without OpenBLAS is refused at start-up with the reason.
import assert from "node:assert/strict";
import { chooseBackend } from "../../src/gpu/backend.ts";
import { parseConfig } from "../../src/config.ts";

const software = { isFallbackAdapter: true };
const hardware = { isFallbackAdapter: false };
const blas = { available: true, reason: null };
const noBlas = { available: false, reason: "libopenblas.so.0: not found" };

Deno.test("auto: the CPU on a software adapter with OpenBLAS, WebGPU otherwise", () => {
  assert.equal(chooseBackend("auto", software, blas).backend, "cpu");
  assert.equal(chooseBackend("auto", hardware, blas).backend, "webgpu");
  const without = chooseBackend("auto", software, noBlas);
  assert.equal(without.backend, "webgpu");
  assert.match(without.reason, /libopenblas\.so\.0: not found/);
});

Deno.test("webgpu and cpu are taken as asked; cpu without OpenBLAS says why", () => {
  assert.equal(chooseBackend("webgpu", software, blas).backend, "webgpu");
  assert.equal(chooseBackend("cpu", hardware, blas).backend, "cpu");
  assert.throws(() => chooseBackend("cpu", software, noBlas), /OpenBLAS.*not found/);
});

Deno.test("SIMFLUENCE_BACKEND is read and checked with the other settings", () => {
  assert.equal(parseConfig({}).backend, "auto");
  assert.equal(parseConfig({ SIMFLUENCE_BACKEND: " CPU " }).backend, "cpu");
  assert.throws(() => parseConfig({ SIMFLUENCE_BACKEND: "tpu" }), /SIMFLUENCE_BACKEND/);
});
