// A real service for CLI tests: the app on a temporary store, served over HTTP on a free port
// (simulators fit and simulate on the CPU here), and the CLI run as a child process against it.
import { testApp, type TestAppOptions } from "../helpers/app.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = new URL("../../cli/main.ts", import.meta.url).pathname;

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

/** Runs the CLI on a pseudo-terminal: what a person sees, stdout and stderr together. */
export async function runCliInTerminal(args: string[]): Promise<CliResult> {
  const command = [Deno.execPath(), "run", "-A", MAIN, ...args].map(shellQuote).join(" ");
  const output = await new Deno.Command(scriptPath!, {
    args: ["-qec", command, "/dev/null"],
    env: { NO_COLOR: "1", SIMFLUENCE_API_TOKEN: "", COLUMNS: "160" },
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

export async function runCli(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", MAIN, ...args],
    env: { NO_COLOR: "1", SIMFLUENCE_API_TOKEN: "", ...env },
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
