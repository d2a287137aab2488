// `deno task install:cli [--root DIR]`: puts a `simfluence` command on the PATH that runs this
// checkout's CLI from any folder. It is a small sh script in DIR/bin (default $DENO_INSTALL_ROOT/bin,
// else ~/.deno/bin, where `deno install` puts commands) that runs cli/main.ts with this repository's
// deno.json and the CLI's own permissions (cli/permissions.ts), in the folder it was typed in.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { cliPermissionFlags } from "./permissions.ts";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const COMMAND_NAME = "simfluence";

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * The launcher script. It prefers the Deno that installed it (an `npx -y deno@…` copy has no
 * `deno` on the PATH), then a `deno` on the PATH, then npx fetching the same version.
 */
export function launcherScript(denoPath: string, denoVersion: string): string {
  const run = [
    "run",
    "--quiet",
    `--config=${join(REPO, "deno.json")}`,
    ...cliPermissionFlags(),
    join(REPO, "cli", "main.ts"),
  ].map(shellQuote).join(" ");
  return [
    "#!/bin/sh",
    `# ${COMMAND_NAME}: the Simfluence CLI of the checkout in ${REPO}.`,
    "# Written by `deno task install:cli`; run it again after moving the checkout.",
    `deno=${shellQuote(denoPath)}`,
    'if [ ! -x "$deno" ]; then deno=$(command -v deno) || deno=""; fi',
    `if [ -n "$deno" ]; then exec "$deno" ${run} "$@"; fi`,
    `exec npx -y ${shellQuote(`deno@${denoVersion}`)} ${run} "$@"`,
    "",
  ].join("\n");
}

/** DIR/bin for `--root DIR`; else where `deno install --global` puts commands. */
export function binDir(args: string[], env: Record<string, string | undefined>): string {
  const at = args.findIndex((a) => a === "--root" || a.startsWith("--root="));
  if (at >= 0) {
    const root = args[at].includes("=") ? args[at].slice("--root=".length) : args[at + 1];
    if (!root) throw new Error("--root needs a folder");
    return join(resolve(env.INIT_CWD ?? Deno.cwd(), root), "bin");
  }
  if (env.DENO_INSTALL_ROOT) return join(env.DENO_INSTALL_ROOT, "bin");
  if (!env.HOME) throw new Error("HOME is not set: give --root DIR");
  return join(env.HOME, ".deno", "bin");
}

export async function install(args: string[]): Promise<string> {
  const env = Object.fromEntries(
    ["HOME", "DENO_INSTALL_ROOT", "INIT_CWD"].map((name) => [name, Deno.env.get(name)]),
  );
  const bin = binDir(args, env);
  await Deno.mkdir(bin, { recursive: true });
  const path = join(bin, COMMAND_NAME);
  await Deno.writeTextFile(path, launcherScript(Deno.execPath(), Deno.version.deno), {
    mode: 0o755,
  });
  // writeTextFile's mode applies only to a new file; a reinstall keeps it runnable too.
  await Deno.chmod(path, 0o755);
  return path;
}

if (import.meta.main) {
  try {
    const path = await install(Deno.args);
    console.log(`installed ${path}`);
    const bin = dirname(path);
    const onPath = (Deno.env.get("PATH") ?? "").split(":").includes(bin);
    if (!onPath) console.log(`${bin} is not on your PATH; add it:\n  export PATH="${bin}:$PATH"`);
    console.log(`try: ${COMMAND_NAME} --help`);
  } catch (e) {
    console.error(`error: ${e instanceof Error ? e.message : e}`);
    Deno.exit(2);
  }
}
