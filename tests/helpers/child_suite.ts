// Reruns test files in a child `deno test` under other settings (another store, another backend),
// one Deno test per file, so that the same tests cover both without being copied.
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

export interface ChildSuite {
  /** Begins each test's name, e.g. "CPU backend". */
  label: string;
  files: readonly string[];
  /** The child's environment on top of NO_COLOR. */
  env: Record<string, string>;
  /** Skip every file, e.g. when what the suite needs is absent. */
  ignore: boolean;
}

export function defineChildSuite({ label, files, env, ignore }: ChildSuite): void {
  for (const file of files) {
    Deno.test({
      name: `${label}: ${file}`,
      ignore,
      async fn() {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["test", "--allow-all", "--no-check", file],
          cwd: root,
          env: { ...env, NO_COLOR: "1" },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
        const summary = text.match(/^(ok|FAILED) \| (\d+) passed.*$/m);
        assert.ok(out.success && summary, `${file} (${label}):\n${text.slice(-4000)}`);
        assert.ok(Number(summary[2]) > 0, `${file} ran no test`);
      },
    });
  }
}
