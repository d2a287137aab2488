// The service's HTTP API called in process (app.request, no socket), for the comparison suites
// that drive a whole study through it (compare.ts, compare_magic.ts, compare_optimize.ts).
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config.ts";
import { gpuFromRuntime } from "../src/gpu/handle.ts";
import { tuneMatmul } from "../src/gpu/kernels/matmul.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { JobManager } from "../src/jobs/manager.ts";
import { memoryLogger } from "../src/log.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { STORE_MODULES } from "../src/store_modules.ts";

export type App = ReturnType<typeof createApp>;
/** The API's JSON answers, read by field name (their schemas are in /openapi.json). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** One request; a 4xx or 5xx throws with the method, path, status and body. */
export async function call(app: App, method: string, path: string, body?: unknown): Promise<Json> {
  const init: RequestInit = { method };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await app.request(path, init);
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls a job until it ends; its result, or an error naming how it ended. */
export async function finished(app: App, job: string): Promise<Json> {
  for (;;) {
    const record = await call(app, "GET", `/v1/jobs/${job}`);
    if (record.status === "succeeded") return record.result;
    if (record.status === "failed" || record.status === "cancelled") {
      throw new Error(`job ${job} ${record.status}: ${record.error}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A progress line on stderr with the time of day. */
export function log(message: string) {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The whole service in this process, on a temporary data directory of its own. */
export interface InProcessService {
  app: App;
  runtime: GpuRuntime;
  /** Stops the jobs, closes the store (and the runtime unless shared), removes the directory. */
  close(): Promise<void>;
}

/**
 * With `shared`, on that runtime (a test's), which it neither tunes nor closes; else on a runtime
 * of its own, with matmul tuned (cached per machine, outliving the data directory).
 */
export async function inProcessService(
  prefix: string,
  shared?: GpuRuntime,
): Promise<InProcessService> {
  const dataDir = await Deno.makeTempDir({ prefix });
  const runtime = shared ?? await GpuRuntime.create();
  if (!shared) {
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    await tuneMatmul(runtime, { cacheFile: `${tmp}/simfluence-compare-autotune.json` });
  }
  const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
  const logger = memoryLogger();
  const jobs = new JobManager({ store: store.jobs, logger });
  const app = createApp({
    config: parseConfig({ SIMFLUENCE_DATA_DIR: dataDir }),
    store,
    gpu: gpuFromRuntime(runtime, () => ({}), { ownsRuntime: !shared }),
    jobs,
    logger,
  });
  return {
    app,
    runtime,
    async close() {
      await jobs.shutdown(2_000);
      store.close();
      if (!shared) runtime.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}
