// One GpuRuntime shared by every test module in the process (one device per process). Its
// backend is SIMFLUENCE_BACKEND (webgpu unless set): the main run tests the WGSL, and
// tests/platform/cpu_backend_suite.test.ts reruns the parity suites with SIMFLUENCE_BACKEND=cpu.
import { BACKEND_SETTINGS, type BackendSetting } from "../../src/gpu/backend.ts";
import { GpuRuntime } from "../../src/gpu/runtime.ts";

let runtime: Promise<GpuRuntime> | null = null;

/** The backend tests run on, from SIMFLUENCE_BACKEND. */
export function testBackend(): BackendSetting {
  const value = Deno.env.get("SIMFLUENCE_BACKEND")?.trim().toLowerCase() || "webgpu";
  if (!(BACKEND_SETTINGS as readonly string[]).includes(value)) {
    throw new Error(`SIMFLUENCE_BACKEND=${value}: expected one of ${BACKEND_SETTINGS.join("|")}`);
  }
  return value as BackendSetting;
}

export function testRuntime(): Promise<GpuRuntime> {
  runtime ??= GpuRuntime.create({ backend: testBackend() });
  return runtime;
}

/** GPU tests keep device resources alive across tests, which Deno's sanitizers would flag. */
export const gpuTest = { sanitizeOps: false, sanitizeResources: false } as const;

/** For tests of the WGSL kernels' own choices (tiles, textures), which the CPU backend has not. */
export const wgslOnly = { ignore: testBackend() === "cpu" } as const;
