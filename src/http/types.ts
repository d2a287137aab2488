// Types shared by the app factory, middleware and route modules.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Config } from "../config.ts";
import type { ApiError } from "./api_error.ts";
import type { FailedAuthCounter } from "./auth_failures.ts";
import type { StreamTokens } from "./stream_tokens.ts";
import type { GpuHandle } from "../gpu/handle.ts";
import type { JobManager } from "../jobs/manager.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/store.ts";
import type { Simulations } from "../simfluence/simulation_registry.ts";

export interface AppEnv {
  Variables: {
    requestId: string;
    /** Carries the request id on every line. */
    logger: Logger;
    /** Set by the body limit (413) or the idle timeout (408) when the body failed while read. */
    bodyLimitError?: ApiError;
    /** Who was let in: a configured token's name, or "stream-token"; unset without auth. */
    tokenName?: string;
  };
}

export interface AppDeps {
  config: Config;
  store: Store;
  gpu: GpuHandle;
  jobs: JobManager;
  logger: Logger;
  /**
   * Simulations watched over GET (one node's registry, or a cluster's, src/cluster/simulations.ts);
   * created by the simulations routes when not given.
   */
  simulations?: Simulations;
  /** How long a request body may stay silent while read (408 after); 30 s by default. */
  bodyIdleTimeoutMs?: number;
  /** Interval of SSE keep-alive comments; 15 s by default. */
  sseKeepAliveMs?: number;
  /** Signs stream-token URLs; createApp makes one (random key) when not given. */
  streamTokens?: StreamTokens;
  /** Failed authentications per address (a cluster's are shared); a fresh one per app if not given. */
  authFailures?: FailedAuthCounter;
  /** An SSE write blocked this long (a client that stopped reading) drops the client; 30 s. */
  sseStallMs?: number;
}

export type App = OpenAPIHono<AppEnv>;

/** A routes/*.ts module registers its routes (with OpenAPI schemas) on the app. */
export type RouteModule = (app: App, deps: AppDeps) => void;
