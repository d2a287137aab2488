// Service entry point: configuration, store, GPU, HTTP server, graceful shutdown.
import { createApp } from "./src/app.ts";
import { type Config, ConfigError, loadConfig } from "./src/config.ts";
import { GpuUnavailableError } from "./src/gpu/device.ts";
import { GpuRuntime } from "./src/gpu/runtime.ts";
import { matmulConfig, tuneMatmul } from "./src/gpu/kernels/matmul.ts";
import { removeStaleTuneTemps } from "./src/gpu/autotune.ts";
import { join } from "node:path";
import {
  computeBackendOf,
  gpuFromRuntime,
  type GpuHandle,
  type KernelConfigSource,
  unavailableGpu,
} from "./src/gpu/handle.ts";
import { JobManager } from "./src/jobs/manager.ts";
import { logLinearAlgebra } from "./src/linalg/select.ts";
import { createLogger, type Logger } from "./src/log.ts";
import { openStore } from "./src/store/open.ts";
import type { Store } from "./src/store/store.ts";
import { SimulationRegistry, type Simulations } from "./src/simfluence/simulation_registry.ts";
import { openSharedHttpState, type SharedHttpState } from "./src/cluster/shared_http_state.ts";
import { STOP_ON_STDIN_EOF } from "./src/launcher.ts";
import { type ClusterNode, joinCluster } from "./src/cluster/node.ts";
import { registerNodeDirectory } from "./src/cluster/node_directory.ts";
import { PostgresStore } from "./src/store/postgres.ts";

const JOB_SHUTDOWN_TIMEOUT_MS = 10_000;
const SERVER_DRAIN_TIMEOUT_MS = 5_000;
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

/**
 * The matmul tiles for this adapter: autotuned in the background at start-up (cached in the data
 * directory, so only the first start on a machine measures), reported by /v1/device meanwhile as
 * the default choice with `tuningState: "running"`.
 */
function kernelConfigFor(
  runtime: GpuRuntime,
  config: Config,
  logger: Logger,
): KernelConfigSource {
  // SIMFLUENCE_AUTOTUNE=off: the default tiles, no timing (tests that start many fresh stores).
  // The CPU backend has no tiles: its GEMMs are OpenBLAS sgemm.
  if (!config.autotune || runtime.isHost) {
    return () => ({ matmul: { ...matmulConfig(runtime), tuningState: "off" } });
  }
  let tuning: "running" | "done" | "failed" = "running";
  tuneMatmul(runtime, { cacheFile: join(config.dataDir, "autotune.json") })
    .then((config) => {
      tuning = "done";
      logger.info("matmul tiles chosen", { config });
    })
    .catch((e) => {
      tuning = "failed";
      logger.warn("matmul autotuning failed; using the default tiles", { error: e });
    });
  // `tuningState`, not `tuning`: matmulConfig's own `tuning` holds the measured GFLOP/s.
  return () => ({ matmul: { ...matmulConfig(runtime), tuningState: tuning } });
}

async function acquireGpu(logger: Logger, config: Config): Promise<GpuHandle> {
  try {
    const runtime = await GpuRuntime.create({
      backend: config.backend,
      cpuThreads: config.cpuThreads,
    });
    const gpu = gpuFromRuntime(runtime, kernelConfigFor(runtime, config, logger));
    const d = runtime.gpu.describe();
    logger.info("gpu ready", {
      vendor: d.vendor,
      device: d.device,
      description: d.description,
      fallback: d.isFallbackAdapter,
      backend: d.backend,
    });
    logger.info(`kernels run on the ${runtime.backend} backend`, {
      setting: config.backend,
      reason: runtime.backendReason,
    });
    return gpu;
  } catch (e) {
    // Keep serving: /readyz reports 503 with this message until an operator fixes the host.
    const message = e instanceof GpuUnavailableError
      ? e.message
      : `GPU initialisation failed: ${e instanceof Error ? e.message : e}`;
    logger.error("gpu unavailable; serving without it", { error: message });
    return unavailableGpu(message);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `Cannot read configuration: ${e}`);
    Deno.exit(1);
  }
  const logger = createLogger({ level: config.logLevel });
  // Opens OpenBLAS now, and warns once (with the apt line) when the TypeScript routines stand in.
  logLinearAlgebra(logger);

  let store: Store;
  try {
    store = await openStore(config, logger);
  } catch (e) {
    logger.error("cannot open the store", {
      dataDir: config.dataDir,
      database: config.databaseUrl ? "postgres" : "sqlite",
      error: e,
    });
    Deno.exit(1);
  }

  // A cache write killed before its rename left a temporary file; nothing of ours writes yet.
  await removeStaleTuneTemps(join(config.dataDir, "autotune.json"));
  const gpu = await acquireGpu(logger, config);
  const jobs = new JobManager({
    store: store.jobs,
    logger,
    computeBackend: () => computeBackendOf(gpu),
  });
  // On PostgreSQL, simulations and failed-auth counts are the cluster's (before the app: the
  // routes take them at creation).
  let shared: SharedHttpState | null = null;
  if (config.databaseUrl && store instanceof PostgresStore) {
    try {
      shared = await openSharedHttpState({
        config: { ...config, databaseUrl: config.databaseUrl },
        store,
        logger,
      });
    } catch (e) {
      logger.error("cannot share simulations and auth counts with the cluster", { error: e });
      Deno.exit(1);
    }
  }
  const simulations: Simulations = shared?.simulations ??
    new SimulationRegistry({ maxRunning: config.maxSimulations });
  const app = createApp({
    config,
    store,
    gpu,
    jobs,
    logger,
    simulations,
    authFailures: shared?.authFailures,
    streamTokens: shared?.streamTokens,
  });
  // On PostgreSQL, after the job kinds are defined (createApp): jobs go to the cluster's queue.
  let cluster: ClusterNode | null = null;
  if (config.databaseUrl && store instanceof PostgresStore) {
    try {
      cluster = await joinCluster({
        config: { ...config, databaseUrl: config.databaseUrl },
        store,
        gpu,
        jobs,
        logger,
        bus: shared?.bus,
      });
      registerNodeDirectory(jobs, cluster.nodes);
    } catch (e) {
      logger.error("cannot join the cluster", { error: e });
      Deno.exit(1);
    }
  }

  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: ({ hostname, port }) => logger.info("listening", { hostname, port }),
  }, app.fetch);

  let stoppingSince: number | null = null;
  const stop = async (cause: string) => {
    if (stoppingSince !== null) {
      // Ctrl-C reaches the launcher's whole process group and the launcher forwards it too, so
      // one keypress can arrive twice within milliseconds; only a later signal means "now".
      if (performance.now() - stoppingSince < DUPLICATE_SIGNAL_WINDOW_MS) return;
      logger.warn("second signal: exiting without waiting", { cause });
      Deno.exit(1);
    }
    stoppingSince = performance.now();
    logger.info("shutting down", { cause });
    // Stop accepting first; open SSE streams end once their jobs reach a final state below.
    const drained = server.shutdown();
    simulations.shutdown();
    cluster?.stopTakingJobs();
    await jobs.shutdown(JOB_SHUTDOWN_TIMEOUT_MS);
    await cluster?.close().catch((error) => logger.warn("cluster did not close", { error }));
    await shared?.close().catch((error) => logger.warn("cluster state did not close", { error }));
    await Promise.race([drained, delay(SERVER_DRAIN_TIMEOUT_MS)]);
    store.close();
    gpu.close();
    logger.info("stopped");
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
  // Started by the launcher: stdin is its pipe, which ends only when the launcher does (even by
  // SIGKILL). Without the launcher there is nobody left to forward a signal, so stop.
  if (Deno.args.includes(STOP_ON_STDIN_EOF)) {
    // A stop already under way is not hurried by it (the launcher may die while waiting for it).
    void untilEnd(Deno.stdin.readable).then(() => {
      if (stoppingSince === null) void stop("launcher exited");
    });
  }
}

async function untilEnd(stream: ReadableStream<Uint8Array>): Promise<void> {
  try {
    for await (const _ of stream) {
      // Nothing is ever written; anything that is, is ignored.
    }
  } catch {
    // A read error is the pipe gone too.
  }
}

if (import.meta.main) await main();
