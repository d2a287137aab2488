// What the service needs from the GPU: whether it is usable (and why not), a description for
// /v1/device, the kernel configuration chosen for this adapter, and the runtime for compute work.
// main.ts builds it from GpuRuntime.create(); tests pass fakes. usableRuntime / requireRuntime are
// the one place that decides whether work may use the GPU, and how a refusal reads.
import { UnavailableError } from "../errors.ts";
import type { DeviceDescription } from "./device.ts";
import type { ComputeBackend, GpuRuntime } from "./runtime.ts";

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

/** The error code of every "this needs the GPU" refusal (a 503 over HTTP). */
export const GPU_UNAVAILABLE = "gpu_unavailable";

/** The runtime when the GPU is usable now, else null: for work that falls back to the CPU. */
export function usableRuntime(gpu: GpuHandle): GpuRuntime | null {
  return gpu.error === null ? gpu.runtime : null;
}

/** The backend a job started now would compute on (recorded on its row), or null. */
export function computeBackendOf(gpu: GpuHandle): ComputeBackend | null {
  return usableRuntime(gpu)?.backend ?? null;
}

/** What work that cannot run without the GPU says when it is refused. */
export interface GpuNeed {
  /** The message's start, e.g. "training needs a GPU"; the reason follows after ": ". */
  what: string;
  /** The reason given when the handle reports no error yet holds no runtime. */
  noDevice: string;
  /** Also report the reason as `details.reason`. */
  reasonInDetails?: boolean;
}

/**
 * The runtime for work that needs the GPU; an UnavailableError (code gpu_unavailable) saying
 * why not when it is unusable.
 */
export function requireRuntime(gpu: GpuHandle, need: GpuNeed): GpuRuntime {
  const runtime = usableRuntime(gpu);
  if (runtime) return runtime;
  const reason = gpu.error ?? need.noDevice;
  throw new UnavailableError(
    `${need.what}: ${reason}`,
    need.reasonInDetails ? { reason } : null,
    GPU_UNAVAILABLE,
  );
}

/** The adapter's description; an UnavailableError (gpu_unavailable) with the reason without one. */
export function requireDevice(gpu: GpuHandle): DeviceDescription {
  const description = gpu.error === null ? gpu.describe() : null;
  if (!description) throw new UnavailableError(gpu.error ?? "no GPU device", null, GPU_UNAVAILABLE);
  return description;
}
