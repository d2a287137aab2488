// What the HTTP layer needs from the GPU: whether it is usable (and why not), a description for
// /v1/device, the kernel configuration chosen for this adapter, and the runtime for compute routes.
// main.ts builds it from GpuRuntime.create(); tests pass fakes.
import type { DeviceDescription } from "./device.ts";
import type { GpuRuntime } from "./runtime.ts";

export interface GpuHandle {
  /** Why the GPU cannot be used now (start-up failure or device loss), or null when it can. */
  readonly error: string | null;
  /** null when no device could be acquired. */
  readonly runtime: GpuRuntime | null;
  describe(): DeviceDescription | null;
  /** The kernel tile configuration in use (e.g. the matmul tiles autotuned for this adapter). */
  kernelConfig(): Record<string, unknown>;
  close(): void;
}

export type KernelConfigSource = () => Record<string, unknown>;

/** `ownsRuntime: false` leaves closing to someone else (e.g. a runtime shared by tests). */
export function gpuFromRuntime(
  runtime: GpuRuntime,
  kernelConfig: KernelConfigSource,
  { ownsRuntime = true } = {},
): GpuHandle {
  return {
    get error() {
      const gpu = runtime.gpu;
      return gpu.healthy ? null : `GPU device unavailable (${gpu.lostReason ?? "closed"})`;
    },
    runtime,
    describe: () => runtime.gpu.describe(),
    kernelConfig,
    close: () => {
      if (ownsRuntime) runtime.close();
    },
  };
}

export function unavailableGpu(error: string): GpuHandle {
  return {
    error,
    runtime: null,
    describe: () => null,
    kernelConfig: () => ({}),
    close: () => {},
  };
}
