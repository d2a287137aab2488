// Which backend runs the kernels: SIMFLUENCE_BACKEND=auto | webgpu | cpu. `auto` takes the CPU
// on a software adapter (llvmpipe, lavapipe) when OpenBLAS is there for its GEMMs, because
// there the CPU code is several times faster than the same work through a software GPU; a real
// adapter, or no OpenBLAS, keeps WebGPU.

export type ComputeBackend = "webgpu" | "cpu";
export type BackendSetting = "auto" | ComputeBackend;

export const BACKEND_SETTINGS: readonly BackendSetting[] = ["auto", "webgpu", "cpu"];

/** The most threads the CPU backend splits a kernel over (host/pool/). */
export const MAX_CPU_THREADS = 16;

/** Its default: every core the runtime reports, at most MAX_CPU_THREADS. */
export function defaultCpuThreads(): number {
  return Math.min(MAX_CPU_THREADS, navigator.hardwareConcurrency || 1);
}

export interface BackendChoice {
  backend: ComputeBackend;
  /** One line on why, for the start-up log and /v1/device. */
  reason: string;
}

/** `adapter` is null where none was opened: none found, or SIMFLUENCE_BACKEND=cpu. */
export function chooseBackend(
  setting: BackendSetting,
  adapter: { isFallbackAdapter: boolean } | null,
  blas: { available: boolean; reason: string | null },
): BackendChoice {
  if (setting === "webgpu") return { backend: "webgpu", reason: "SIMFLUENCE_BACKEND=webgpu" };
  if (setting === "cpu") {
    if (!blas.available) {
      throw new Error(
        `SIMFLUENCE_BACKEND=cpu needs OpenBLAS for its GEMMs, which did not open: ${blas.reason}`,
      );
    }
    return { backend: "cpu", reason: "SIMFLUENCE_BACKEND=cpu" };
  }
  if (!adapter) {
    if (!blas.available) {
      throw new Error(`no WebGPU adapter, and OpenBLAS did not open: ${blas.reason}`);
    }
    return { backend: "cpu", reason: "no WebGPU adapter, and OpenBLAS for the GEMMs" };
  }
  if (!adapter.isFallbackAdapter) return { backend: "webgpu", reason: "a hardware adapter" };
  if (!blas.available) {
    return {
      backend: "webgpu",
      reason: `a software adapter, but OpenBLAS did not open (${blas.reason})`,
    };
  }
  return { backend: "cpu", reason: "a software adapter, and OpenBLAS for the GEMMs" };
}
