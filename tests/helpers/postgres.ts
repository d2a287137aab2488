// A throwaway PostgreSQL cluster for tests: initdb into a temporary folder, pg_ctl on a free port
// of 127.0.0.1 (and a socket in that folder), fsync off, stopped when the test process ends. It
// never touches a system cluster. One cluster serves a test process; each test takes a database of
// its own from `freshDatabase()`.
//
// Without PostgreSQL installed, `postgresAvailable` is false and tests skip, except under CI
// (.ci/run installs it), where the check below fails instead.
import { existsSync } from "node:fs";

export const POSTGRES_INSTALL = "apt-get install -y postgresql";

function findBin(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((e) => e.name)
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const path = `/usr/lib/postgresql/${v}/bin/${name}`;
      if (existsSync(path)) return path;
    }
  } catch { /* not installed */ }
  return null;
}

const initdb = findBin("initdb");
const pgCtl = findBin("pg_ctl");

export const postgresAvailable = initdb !== null && pgCtl !== null;

/** initdb refuses to run as root: as root, the cluster runs as the `postgres` user. */
const asRoot = Deno.uid() === 0;

function run(args: string[], options: { quiet?: boolean } = {}): void {
  const [command, ...rest] = asRoot ? ["runuser", "-u", "postgres", "--", ...args] : args;
  const out = new Deno.Command(command, { args: rest, stdout: "piped", stderr: "piped" })
    .outputSync();
  if (!out.success && !options.quiet) {
    const err = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${args.join(" ")} failed: ${err.trim()}`);
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface PostgresCluster {
  /** URL of the cluster's `postgres` database. */
  url: string;
  port: number;
  dir: string;
}

let cluster: PostgresCluster | null = null;

/** Starts the process's cluster on first use. */
export function postgresCluster(): PostgresCluster {
  if (cluster) return cluster;
  if (!postgresAvailable) throw new Error(`PostgreSQL is not installed: ${POSTGRES_INSTALL}`);
  const dir = Deno.makeTempDirSync({ prefix: "simfluence-pg-" });
  if (asRoot) new Deno.Command("chown", { args: ["postgres", dir] }).outputSync();
  const data = `${dir}/data`;
  run([initdb!, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = freePort();
  run([
    pgCtl!,
    "-D",
    data,
    "-l",
    `${dir}/log`,
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`,
    "start",
  ]);
  cluster = { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, dir };
  globalThis.addEventListener("unload", stopPostgresCluster);
  return cluster;
}

export function stopPostgresCluster(): void {
  if (!cluster) return;
  const { dir } = cluster;
  cluster = null;
  run([pgCtl!, "-D", `${dir}/data`, "-m", "immediate", "-w", "stop"], { quiet: true });
  Deno.removeSync(dir, { recursive: true });
}

let databases = 0;

/** A new, empty database in the process's cluster; returns its URL. */
export function freshDatabase(): string {
  const { port } = postgresCluster();
  const name = `t${Date.now().toString(36)}_${databases++}_${crypto.randomUUID().slice(0, 6)}`;
  run([
    findBin("psql") ?? "psql",
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-U",
    "postgres",
    "-c",
    `CREATE DATABASE ${name}`,
  ]);
  return `postgres://postgres@127.0.0.1:${port}/${name}`;
}
