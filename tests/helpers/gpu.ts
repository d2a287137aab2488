// One GpuRuntime shared by every test module in the process (one device per process).
import { GpuRuntime } from "../../src/gpu/runtime.ts";

let runtime: Promise<GpuRuntime> | null = null;

export function testRuntime(): Promise<GpuRuntime> {
  runtime ??= GpuRuntime.create();
  return runtime;
}

/** GPU tests keep device resources alive across tests, which Deno's sanitizers would flag. */
export const gpuTest = { sanitizeOps: false, sanitizeResources: false } as const;
