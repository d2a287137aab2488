// `deno task start`: reads the configuration, then runs main.ts in a child Deno with exactly the
// permissions that configuration needs (read the project, the npm cache and the data directory;
// write only the data directory; the service's own environment variables; the network). Deriving
// the flags here is what lets SIMFLUENCE_DATA_DIR point anywhere without widening them by hand.
// Signals are forwarded and the child's exit status becomes the launcher's.
//
// Stopping is the launcher's job twice over. `npx -y deno@… task start` runs npx → `sh -c` →
// `deno task` → launcher → service, and a `kill` of npx kills npx and its `sh` without reaching
// `deno task`: the launcher watches that chain of runners (launch_chain.ts) and stops the service
// when one of them is gone. And the service reads a pipe from the launcher as its stdin, so it
// stops when the launcher dies, even by SIGKILL (main.ts, STOP_ON_STDIN_EOF).
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, ConfigError, ENV_VARS, loadConfig } from "./config.ts";
import { launchChain, watchChain } from "./launch_chain.ts";
import { findOpenBlas } from "./linalg/openblas.ts";
import { sharedBlobFolder } from "./store/blobs/select.ts";

/** main.ts's argument: stop when stdin (the launcher's pipe) reaches its end. */
export const STOP_ON_STDIN_EOF = "--stop-on-stdin-eof";

/** Variables the service reads besides ENV_VARS: the GPU layer's backend choice, and PostgreSQL's. */
export const EXTRA_SERVICE_ENV = [
  "DENO_WEBGPU_BACKEND",
  // Set by src/linalg/openblas.ts before the library opens, unless the user set it.
  "OPENBLAS_THREAD_TIMEOUT",
  // What node-postgres reads besides the URL (libpq's variables, and USER for its default role).
  "USER",
  "PGHOST",
  "PGPORT",
  "PGUSER",
  "PGPASSWORD",
  "PGDATABASE",
  "PGSSLMODE",
  "PGAPPNAME",
  "PGPASSFILE",
  "PGCONNECT_TIMEOUT",
  "PGCLIENTENCODING",
  "PGTZ",
  // Read by node-postgres's connection parameters whenever its config leaves them unset.
  "PGBINARY",
  "PGOPTIONS",
  "PGSSLNEGOTIATION",
  "PGREPLICATION",
  "PGCLIENT_ENCODING",
] as const;

/** Where this checkout lives: main.ts, shaders/ and deno.json are read from here. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Deno's npm cache, which the service reads at run time (the built-in spam dataset ships as an
 * npm package's files): $DENO_DIR/npm, else the platform cache directory's deno/npm.
 */
export function npmCacheDir(env: Record<string, string | undefined>): string | null {
  if (env.DENO_DIR) return join(env.DENO_DIR, "npm");
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "deno", "npm");
  if (env.HOME) return join(env.HOME, ".cache", "deno", "npm");
  return null;
}

/** The absolute data directory: relative ones are taken from the launcher's working directory. */
export function absoluteDataDir(config: Config, cwd: string): string {
  return isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
}

/**
 * The `deno run` permission flags of the service for this configuration; `ffiLibrary`, OpenBLAS's
 * path when installed, is the one library the service may open (src/linalg/).
 */
export function servicePermissionFlags(
  config: Config,
  env: Record<string, string | undefined>,
  cwd: string,
  ffiLibrary: string | null = null,
): string[] {
  const dataDir = absoluteDataDir(config, cwd);
  const cache = npmCacheDir(env);
  // A shared tensor folder (SIMFLUENCE_BLOB_URL=file://…) is written like the data directory.
  const blobFolder = sharedBlobFolder(config.blobs);
  const writable = [dataDir, ...(blobFolder ? [blobFolder] : [])];
  const readable = [PROJECT_ROOT, ...writable, ...(cache ? [cache] : [])];
  return [
    "--allow-net",
    `--allow-read=${readable.join(",")}`,
    `--allow-write=${writable.join(",")}`,
    `--allow-env=${[...ENV_VARS, ...EXTRA_SERVICE_ENV].join(",")}`,
    ...(ffiLibrary ? [`--allow-ffi=${ffiLibrary}`] : []),
    // The default node id is the host's name; pg-boss's health check reads the memory size.
    "--allow-sys=hostname,systemMemoryInfo",
    "--no-prompt",
  ];
}

async function launch(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(e instanceof ConfigError ? e.message : `Cannot read configuration: ${e}`);
    return 1;
  }
  const env = Deno.env.toObject();
  const cwd = Deno.cwd();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--config=${join(PROJECT_ROOT, "deno.json")}`,
      ...servicePermissionFlags(config, env, cwd, findOpenBlas()),
      join(PROJECT_ROOT, "main.ts"),
      STOP_ON_STDIN_EOF,
    ],
    // The service sees the same directory, resolved once, so it cannot drift from the flags.
    env: { SIMFLUENCE_DATA_DIR: absoluteDataDir(config, cwd) },
    // Never written: it closes when this process ends, however it ends, and the service stops.
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  const handlers = signals.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  // The runners above us (deno task, sh -c, npx) going away is the user's stop too.
  const watching = watchChain(await launchChain(), forward("SIGTERM"));
  const status = await child.status;
  watching.stop();
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  // Deno reports a child killed by signal n as code 128 + n, the shell's convention.
  return status.code;
}

if (import.meta.main) Deno.exit(await launch());
