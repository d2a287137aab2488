// SIMFLUENCE_BACKEND: auto takes the CPU only on a software adapter with OpenBLAS; webgpu and cpu
// are taken as asked, and cpu without OpenBLAS is refused at start-up with the reason. The CPU
// backend by name, or auto without any adapter, opens no WebGPU adapter at all.
import assert from "node:assert/strict";
import { chooseBackend } from "../../src/gpu/backend.ts";
import { parseConfig } from "../../src/config.ts";
import { openBlasLibrary } from "../../src/linalg/select.ts";

const runtimeModule = new URL("../../src/gpu/runtime.ts", import.meta.url).href;

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

Deno.test("without any adapter, auto takes the CPU when OpenBLAS is there", () => {
  const choice = chooseBackend("auto", null, blas);
  assert.equal(choice.backend, "cpu");
  assert.match(choice.reason, /no WebGPU adapter/);
  assert.throws(() => chooseBackend("auto", null, noBlas), /no WebGPU adapter.*not found/);
});

Deno.test({
  name: "SIMFLUENCE_BACKEND=cpu opens no adapter: Mesa's EGL never enters the process",
  ignore: !openBlasLibrary(),
  async fn() {
    // A child process, because this one may hold an adapter from other tests. EGL's per-thread
    // state, freed twice when a thread exits during exit(), aborted short CPU runs.
    const script = `
      const { GpuRuntime } = await import(${JSON.stringify(runtimeModule)});
      const rt = await GpuRuntime.create({ backend: "cpu" });
      const [y] = await rt.read([rt.tensor([1, 2, 3], [3])]);
      const maps = Deno.readTextFileSync("/proc/self/maps");
      console.log(JSON.stringify({
        backend: rt.backend, adapter: rt.gpu.adapter === null, description: rt.gpu.describe(),
        egl: /libEGL/.test(maps), y: [...y],
      }));`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const seen = JSON.parse(text.trim().split("\n").at(-1)!);
    assert.equal(seen.backend, "cpu");
    assert.equal(seen.adapter, true);
    assert.equal(seen.description.backend, "none");
    assert.equal(seen.description.limits.maxComputeWorkgroupsPerDimension, 65535);
    assert.equal(seen.egl, false);
    assert.deepEqual(seen.y, [1, 2, 3]);
  },
});

Deno.test("SIMFLUENCE_BACKEND is read and checked with the other settings", () => {
  assert.equal(parseConfig({}).backend, "auto");
  assert.equal(parseConfig({ SIMFLUENCE_BACKEND: " CPU " }).backend, "cpu");
  assert.throws(() => parseConfig({ SIMFLUENCE_BACKEND: "tpu" }), /SIMFLUENCE_BACKEND/);
  assert.equal(parseConfig({}).cpuThreads, Math.min(16, navigator.hardwareConcurrency));
  assert.equal(parseConfig({ SIMFLUENCE_CPU_THREADS: "3" }).cpuThreads, 3);
  assert.throws(() => parseConfig({ SIMFLUENCE_CPU_THREADS: "0" }), /SIMFLUENCE_CPU_THREADS/);
});
