// An app on a temporary data directory with a fake GPU and an in-memory logger, for HTTP tests.
import { createApp } from "../../src/app.ts";
import { type Config, parseConfig } from "../../src/config.ts";
import type { DeviceDescription } from "../../src/gpu/device.ts";
import { computeBackendOf, type GpuHandle } from "../../src/gpu/handle.ts";
import type { AppDeps, RouteModule } from "../../src/http/types.ts";
import { JobManager } from "../../src/jobs/manager.ts";
import { memoryLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { PostgresStore } from "../../src/store/postgres.ts";
import { freshDatabase } from "./postgres.ts";
import { ROUTE_MODULES } from "../../routes/index.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

export const FAKE_DEVICE: DeviceDescription = {
  vendor: "fakevendor",
  architecture: "fake-arch",
  device: "fake device 1",
  description: "a fake adapter for tests",
  isFallbackAdapter: false,
  backend: "vulkan",
  limits: { maxBufferSize: 1 << 30, maxComputeInvocationsPerWorkgroup: 256 },
  features: ["shader-f16", "timestamp-query"],
  generation: 1,
};

export function fakeGpu(
  options: { error?: string; kernelConfig?: Record<string, unknown> } = {},
): GpuHandle {
  return {
    error: options.error ?? null,
    runtime: null,
    describe: () => (options.error ? null : FAKE_DEVICE),
    kernelConfig: () => options.kernelConfig ?? { matmul: { tileM: 64, tileN: 64 } },
    close: () => {},
  };
}

export interface TestAppOptions {
  env?: Record<string, string>;
  gpu?: GpuHandle;
  routes?: readonly RouteModule[];
  sseKeepAliveMs?: number;
  persistIntervalMs?: number;
  bodyIdleTimeoutMs?: number;
  /** Streaming and access-control dependencies (simulation registry, stream tokens, …). */
  streaming?: Pick<AppDeps, "simulations" | "streamTokens" | "authFailures" | "sseStallMs">;
}

/**
 * The store every test app opens: SQLite, or with SIMFLUENCE_TEST_DATABASE=postgres a fresh
 * database in a throwaway PostgreSQL cluster, so the same HTTP tests check both stores.
 */
export const TEST_DATABASE = Deno.env.get("SIMFLUENCE_TEST_DATABASE") === "postgres"
  ? "postgres"
  : "sqlite";

/** Either store; both expose `db` (tests read tables directly). */
export type TestStore = SqliteStore | PostgresStore;

export async function openTestStore(dataDir: string): Promise<TestStore> {
  if (TEST_DATABASE === "sqlite") return SqliteStore.open({ dataDir, modules: STORE_MODULES });
  return await PostgresStore.open({ url: freshDatabase(), dataDir, modules: STORE_MODULES });
}

export async function testApp(options: TestAppOptions = {}) {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-test-" });
  const config: Config = parseConfig({ SIMFLUENCE_DATA_DIR: dataDir, ...options.env });
  const store = await openTestStore(dataDir);
  const logger = memoryLogger();
  const gpu = options.gpu ?? fakeGpu();
  const jobs = new JobManager({
    store: store.jobs,
    logger,
    persistIntervalMs: options.persistIntervalMs,
    computeBackend: () => computeBackendOf(gpu),
  });
  const app = createApp(
    {
      config,
      store,
      gpu,
      jobs,
      logger,
      sseKeepAliveMs: options.sseKeepAliveMs,
      bodyIdleTimeoutMs: options.bodyIdleTimeoutMs,
      ...options.streaming,
    },
    options.routes ?? ROUTE_MODULES,
  );
  return {
    app,
    config,
    store,
    jobs,
    logger,
    dataDir,
    async close() {
      await jobs.shutdown(2_000);
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/** Parses a text/event-stream body into events (comments are returned as `comment` events). */
export function parseSse(text: string): { event: string; data: string }[] {
  const events: { event: string; data: string }[] = [];
  for (const block of text.split("\n\n")) {
    if (block.trim() === "") continue;
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) events.push({ event: "comment", data: line.slice(1).trim() });
      else if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

/** Resolves when `predicate` holds, polling every few milliseconds. */
export async function until(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
