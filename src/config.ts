// Service configuration, read once from environment variables and validated in one place so a bad
// value stops start-up with a message naming the variable instead of failing later.
import {
  BACKEND_SETTINGS,
  type BackendSetting,
  defaultCpuThreads,
  MAX_CPU_THREADS,
} from "./gpu/backend.ts";
import { z } from "zod";
import { DEFAULT_RUN_LIMITS, type RunLimits } from "./runs/run_limits.ts";
import { BLOB_ENV_VARS, type BlobSettings, parseBlobSettings } from "./store/blobs/select.ts";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  maxBodyBytes: number;
  /**
   * Bearer tokens; when any is set, /v1 routes (except GET /v1/device) require one. From
   * SIMFLUENCE_API_TOKENS ("name:scope:token,…") plus SIMFLUENCE_API_TOKEN (kept for backward
   * compatibility: one `write` token named "default"). Empty: no authentication.
   */
  apiTokens: ApiToken[];
  logLevel: LogLevel;
  /** `["*"]` allows any origin. */
  corsOrigins: string[];
  /** Simulations (POST /v1/simulations) computing at once; past it a 429 with Retry-After. */
  maxSimulations: number;
  /** Time the matmul kernels at start-up (cached per data directory); off keeps the defaults. */
  autotune: boolean;
  /** Bounds on the training ids of runs, checked on every upload format and on recorded runs. */
  runLimits: RunLimits;
  /** Where tensor files live (SIMFLUENCE_BLOB_URL, the S3 variables) and clean-up's grace period. */
  blobs: BlobSettings;
  /** PostgreSQL shared by a cluster's nodes (SIMFLUENCE_DATABASE_URL); null: SQLite in dataDir. */
  databaseUrl: string | null;
  /** What this node does: answer requests (`api`), run jobs (`worker`), or both (`all`). */
  role: NodeRole;
  /** Where kernels run (SIMFLUENCE_BACKEND, default auto; see src/gpu/backend.ts). */
  backend: BackendSetting;
  /**
   * The CPU backend's threads for split kernels (SIMFLUENCE_CPU_THREADS, 1-16, default every
   * core; see src/gpu/host/pool/).
   */
  cpuThreads: number;
  /** This node's name in a cluster (SIMFLUENCE_NODE_ID); stable across restarts of the node. */
  nodeId: string;
  /**
   * A cluster job not heartbeated for this long belongs to a dead node and is retried elsewhere
   * (SIMFLUENCE_JOB_HEARTBEAT_SECONDS, 10-3600, default 60; pg-boss's minimum is 10).
   */
  jobHeartbeatSeconds: number;
}

export const NODE_ROLES = ["api", "worker", "all"] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export const TOKEN_SCOPES = ["read", "write"] as const;
/** `read`: GET routes and event streams (and minting stream tokens); `write`: every route. */
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface ApiToken {
  /** Shown in logs instead of the secret. */
  name: string;
  scope: TokenScope;
  token: string;
}

/** Every variable the service reads; main.ts's `--allow-env` list must match it. */
export const ENV_VARS = [
  "PORT",
  "HOST",
  "SIMFLUENCE_DATA_DIR",
  "SIMFLUENCE_MAX_BODY_MB",
  "SIMFLUENCE_API_TOKEN",
  "SIMFLUENCE_API_TOKENS",
  "SIMFLUENCE_LOG_LEVEL",
  "SIMFLUENCE_CORS_ORIGINS",
  "SIMFLUENCE_AUTOTUNE",
  "SIMFLUENCE_MAX_SIMULATIONS",
  "SIMFLUENCE_MAX_BATCH_SIZE",
  "SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY",
  "SIMFLUENCE_DATABASE_URL",
  "SIMFLUENCE_ROLE",
  "SIMFLUENCE_BACKEND",
  "SIMFLUENCE_CPU_THREADS",
  "SIMFLUENCE_NODE_ID",
  "SIMFLUENCE_JOB_HEARTBEAT_SECONDS",
  ...BLOB_ENV_VARS,
] as const;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      "Invalid configuration:\n" +
        problems.map((p) => `  ${p.variable}: ${p.message}`).join("\n"),
    );
  }
}

// Unset and empty variables both mean "use the default".
const blankToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

const integerString = (min: number, max: number, fallback: number) =>
  z.preprocess(
    blankToUndefined,
    z.string().trim().regex(/^\d+$/, `expected an integer between ${min} and ${max}`)
      .transform(Number)
      .pipe(
        z.number().int().min(min, `expected an integer between ${min} and ${max}`).max(
          max,
          `expected an integer between ${min} and ${max}`,
        ),
      )
      .optional()
      .transform((v) => v ?? fallback),
  );

const TOKEN_NAME = /^[\w.-]{1,64}$/;
const TOKEN_SECRET = /^[\x21-\x2b\x2d-\x7e]{16,}$/;
const MIN_SECRET_LENGTH = 16;

/** "name:scope:token,…": the secret is everything after the second colon (it may hold colons). */
const tokenList = z.string().transform((list, ctx): ApiToken[] => {
  const tokens: ApiToken[] = [];
  for (const [i, entry] of list.split(",").map((e) => e.trim()).entries()) {
    if (entry === "") continue;
    const [name, scope, ...rest] = entry.split(":");
    const token = rest.join(":");
    // Messages name the entry by position and name, never echo a secret.
    const where = `entry ${i + 1}${TOKEN_NAME.test(name) ? ` (${name})` : ""}`;
    if (!TOKEN_NAME.test(name)) {
      ctx.addIssue({
        code: "custom",
        message: `${where}: expected name:scope:token, name [A-Za-z0-9_.-]`,
      });
    } else if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) {
      ctx.addIssue({ code: "custom", message: `${where}: scope must be read or write` });
    } else if (!TOKEN_SECRET.test(token)) {
      ctx.addIssue({
        code: "custom",
        message: `${where}: token must be at least ${MIN_SECRET_LENGTH} printable ASCII ` +
          "characters without spaces or commas",
      });
    } else if (tokens.some((t) => t.name === name)) {
      ctx.addIssue({ code: "custom", message: `${where}: name used twice` });
    } else if (tokens.some((t) => t.token === token)) {
      ctx.addIssue({ code: "custom", message: `${where}: the same token is listed twice` });
    } else {
      tokens.push({ name, scope: scope as TokenScope, token });
    }
  }
  return tokens;
});

const ORIGIN = /^https?:\/\/[^\s/?#]+$/i;

const envSchema = z.object({
  PORT: integerString(0, 65535, 8787),
  HOST: z.preprocess(
    blankToUndefined,
    z.string().trim().regex(/^[\w.:[\]-]+$/, "expected a host name or IP address").default(
      "127.0.0.1",
    ),
  ),
  SIMFLUENCE_DATA_DIR: z.preprocess(blankToUndefined, z.string().default("./data")),
  SIMFLUENCE_MAX_BODY_MB: z.preprocess(
    blankToUndefined,
    z.string().trim().regex(/^\d+(\.\d+)?$/, "expected a positive number of megabytes")
      .transform(Number)
      .pipe(z.number().positive("expected a positive number of megabytes").max(16384))
      .default(64),
  ),
  SIMFLUENCE_API_TOKEN: z.preprocess(
    blankToUndefined,
    z.string().regex(/^[\x21-\x7e]+$/, "expected printable ASCII without spaces").optional(),
  ),
  SIMFLUENCE_API_TOKENS: z.preprocess(blankToUndefined, tokenList.default([])),
  SIMFLUENCE_LOG_LEVEL: z.preprocess(
    (
      v,
    ) => (typeof blankToUndefined(v) === "string" ? (v as string).trim().toLowerCase() : undefined),
    z.enum(LOG_LEVELS, { message: `expected one of ${LOG_LEVELS.join("|")}` }).default("info"),
  ),
  SIMFLUENCE_CORS_ORIGINS: z.preprocess(
    blankToUndefined,
    z.string().default("*").transform((list, ctx) => {
      // A trailing slash is a common typo for an origin; browsers never send one.
      const origins = list.split(",").map((o) => o.trim().replace(/\/$/, "")).filter((o) =>
        o !== ""
      );
      for (const origin of origins) {
        if (origin !== "*" && !ORIGIN.test(origin)) {
          ctx.addIssue({
            code: "custom",
            message: `"${origin}" is not "*" or an origin like https://example.com:8080`,
          });
        }
      }
      if (origins.length === 0) ctx.addIssue({ code: "custom", message: "empty origin list" });
      return origins;
    }),
  ),
  SIMFLUENCE_MAX_SIMULATIONS: integerString(1, 256, 8),
  SIMFLUENCE_MAX_BATCH_SIZE: integerString(1, 16_777_216, DEFAULT_RUN_LIMITS.maxBatchSize),
  SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY: integerString(
    1,
    100_000_000,
    DEFAULT_RUN_LIMITS.maxTrainIdsPerStudy,
  ),
  SIMFLUENCE_DATABASE_URL: z.preprocess(
    blankToUndefined,
    z.string().trim().regex(
      /^postgres(ql)?:\/\/\S+$/,
      "expected a PostgreSQL URL like postgres://user:password@host:5432/database",
    ).optional(),
  ),
  SIMFLUENCE_ROLE: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : undefined),
    z.enum(NODE_ROLES, { message: `expected one of ${NODE_ROLES.join("|")}` }).default("all"),
  ),
  SIMFLUENCE_BACKEND: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : undefined),
    z.enum(BACKEND_SETTINGS, { message: `expected one of ${BACKEND_SETTINGS.join("|")}` })
      .default("auto"),
  ),
  SIMFLUENCE_CPU_THREADS: integerString(1, MAX_CPU_THREADS, defaultCpuThreads()),
  SIMFLUENCE_NODE_ID: z.preprocess(
    blankToUndefined,
    z.string().trim().regex(/^[\w.:-]{1,64}$/, "expected 1-64 letters, digits or . _ : -")
      .optional(),
  ),
  SIMFLUENCE_JOB_HEARTBEAT_SECONDS: integerString(10, 3600, 60),
  SIMFLUENCE_AUTOTUNE: z.preprocess(
    (v) => (typeof v === "string" ? v.trim().toLowerCase() || undefined : undefined),
    z.enum(["on", "off"], { message: "expected on|off" }).default("on"),
  ),
});

/** Pure: validates `env` and returns the configuration, or throws ConfigError naming each bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = envSchema.safeParse(env);
  const blobs = parseBlobSettings(env);
  if (!result.success || blobs.settings === null) {
    throw new ConfigError([
      ...(result.error?.issues ?? []).map((issue) => {
        const variable = String(issue.path[0] ?? "environment");
        const raw = env[variable];
        // Secrets are never echoed: tokens, and a database URL's password.
        const shown = variable.startsWith("SIMFLUENCE_API_TOKEN") ||
            variable === "SIMFLUENCE_DATABASE_URL" || raw === undefined
          ? ""
          : ` (got ${JSON.stringify(raw)})`;
        return { variable, message: issue.message + shown };
      }),
      ...blobs.problems,
    ]);
  }
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.SIMFLUENCE_DATA_DIR,
    maxBodyBytes: Math.floor(e.SIMFLUENCE_MAX_BODY_MB * 1024 * 1024),
    apiTokens: [
      ...(e.SIMFLUENCE_API_TOKEN === undefined
        ? []
        : [{ name: "default", scope: "write" as const, token: e.SIMFLUENCE_API_TOKEN }]),
      ...e.SIMFLUENCE_API_TOKENS,
    ],
    logLevel: e.SIMFLUENCE_LOG_LEVEL,
    corsOrigins: e.SIMFLUENCE_CORS_ORIGINS.includes("*") ? ["*"] : e.SIMFLUENCE_CORS_ORIGINS,
    maxSimulations: e.SIMFLUENCE_MAX_SIMULATIONS,
    autotune: e.SIMFLUENCE_AUTOTUNE === "on",
    runLimits: {
      maxBatchSize: e.SIMFLUENCE_MAX_BATCH_SIZE,
      maxTrainIdsPerStudy: e.SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY,
    },
    blobs: blobs.settings,
    databaseUrl: e.SIMFLUENCE_DATABASE_URL ?? null,
    role: e.SIMFLUENCE_ROLE,
    backend: e.SIMFLUENCE_BACKEND,
    cpuThreads: e.SIMFLUENCE_CPU_THREADS,
    nodeId: e.SIMFLUENCE_NODE_ID ?? defaultNodeId(e.PORT),
    jobHeartbeatSeconds: e.SIMFLUENCE_JOB_HEARTBEAT_SECONDS,
  };
}

/** The host's name and port: unique per node on a host, and the same after a restart. */
function defaultNodeId(port: number): string {
  let host = "localhost";
  try {
    host = Deno.hostname();
  } catch { /* no --allow-sys: keep the fallback */ }
  return `${host.replace(/[^\w.:-]/g, "-").slice(0, 50)}:${port}`;
}

/** Reads the process environment (only the variables in ENV_VARS). */
export function loadConfig(): Config {
  const env: Record<string, string | undefined> = {};
  for (const name of ENV_VARS) env[name] = Deno.env.get(name);
  return parseConfig(env);
}
