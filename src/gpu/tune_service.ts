// POST /v1/device/tune: measure the matmul candidates again now, as a job, whatever the cache
// holds (after a busy machine's tuning was cached, or a driver update that kept the adapter key).
import { join } from "node:path";
import { ConflictError } from "../errors.ts";
import type { JobKind, JobManager } from "../jobs/manager.ts";
import type { JobRecord } from "../store/store.ts";
import { type GpuHandle, requireRuntime } from "./handle.ts";
import { retuneMatmul } from "./kernels/matmul.ts";

/** Where the service keeps its tuning choices: one JSON file in the data directory. */
export function autotuneCacheFile(dataDir: string): string {
  return join(dataDir, "autotune.json");
}

export interface TuneDeps {
  gpu: GpuHandle;
  jobs: JobManager;
  config: { dataDir: string };
}

export function startTuning(deps: TuneDeps, request: { quick: boolean }): JobRecord {
  const runtime = requireRuntime(deps.gpu, TUNE_NEED);
  if (runtime.isHost) {
    // One OpenBLAS sgemm serves every shape there: no tiles to choose between.
    throw new ConflictError(
      "the CPU backend has no matmul tiles to tune (its GEMMs are OpenBLAS sgemm); SIMFLUENCE_BACKEND=webgpu runs the WGSL kernels",
      { backend: runtime.backend },
      "cpu_backend",
    );
  }
  return deps.jobs.submit("device-tune", request);
}

const TUNE_NEED = { what: "tuning needs a GPU", noDevice: "no GPU adapter" };

/**
 * The device-tune job kind: it measures THIS node's adapter and writes this node's cache, so it
 * runs on the node that took the request (local), never on another.
 */
export function deviceTuneKind(
  deps: Pick<TuneDeps, "gpu" | "config">,
): JobKind<{ quick: boolean }> {
  return {
    needs: "gpu",
    local: true,
    build: (record) => {
      const runtime = requireRuntime(deps.gpu, TUNE_NEED);
      const { quick } = record.input;
      return Promise.resolve(async (ctx) => {
        ctx.progress({ phase: "measuring matmul candidates", fraction: 0 });
        return await retuneMatmul(runtime, {
          cacheFile: autotuneCacheFile(deps.config.dataDir),
          quick: quick === true,
        });
      });
    },
  };
}
