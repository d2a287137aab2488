// A real service for CLI tests: the app on a temporary store, served over HTTP on a free port
// (simulators fit and simulate on the CPU here), and the CLI run as a child process against it.
//
// The CLI runs as `deno task cli` runs it: with the task's own permission flags, read from
// deno.json, and in an environment like a plain shell's, without NO_COLOR, FORCE_COLOR or CI
// (the colour checks they short-circuit are what read the variables a narrow --allow-env misses).
import { testApp, type TestAppOptions } from "../helpers/app.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;

/** The permission flags of a deno.json task that runs `deno run|compile <flags…> cli/main.ts`. */
export function taskPermissionFlags(task: string): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(DENO_JSON)).tasks as Record<string, string>;
  const words = tasks[task].split(/\s+/);
  return words.filter((w) => w.startsWith("--allow-") || w === "--no-prompt");
}

/** Variables that make colour decisions without asking the terminal; a user's shell has none. */
export const COLOUR_SHORTCUTS = ["NO_COLOR", "FORCE_COLOR", "CI", "CLICOLOR_FORCE"];

/** This process's environment without the colour shortcuts, plus `extra`. */
export function plainShellEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env = Deno.env.toObject();
  for (const name of COLOUR_SHORTCUTS) delete env[name];
  return { ...env, SIMFLUENCE_API_TOKEN: "", ...extra };
}

export async function startService(options: TestAppOptions = {}) {
  const ctx = await testApp(options);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    ctx.app.fetch,
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    ...ctx,
    url,
    /** Runs `simfluence <args>` against this service; `env` adds variables (e.g. the token). */
    async cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
      return await runCli(["--url", url, ...args], env);
    },
    async stop() {
      await server.shutdown();
      await ctx.close();
    },
  };
}

/** `script`, which gives a command a pseudo-terminal, where there is one (util-linux). */
export const scriptPath = ["/usr/bin/script", "/bin/script"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

/**
 * Runs the CLI on a pseudo-terminal: what a person sees, stdout and stderr together. Without
 * --no-prompt a missing permission would be a question nobody answers: here it is an error.
 */
export async function runCliInTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const command = [
    Deno.execPath(),
    "run",
    "--no-prompt",
    ...taskPermissionFlags("cli"),
    MAIN,
    ...args,
  ].map(shellQuote).join(" ");
  const output = await new Deno.Command(scriptPath!, {
    args: ["-qec", command, "/dev/null"],
    env: plainShellEnv({ COLUMNS: "160", ...env }),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

export async function runCli(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...taskPermissionFlags("cli"), MAIN, ...args],
    env: plainShellEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}
