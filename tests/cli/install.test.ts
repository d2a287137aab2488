// `deno task install:cli --root DIR` puts a `simfluence` command in DIR/bin that works from any
// folder, as the README says: --help from a folder outside the checkout (a plain shell's
// environment, a PATH without deno), and a real call whose file argument is relative to that
// folder.
import assert from "node:assert/strict";
import { join } from "node:path";
import { cliPermissionFlags } from "../../cli/permissions.ts";
import { launcherScript } from "../../cli/install.ts";
import { plainShellEnv, startService } from "./harness.ts";

const PROJECT_ROOT = new URL("../..", import.meta.url).pathname;
const decoder = new TextDecoder();

async function run(command: string, args: string[], cwd: string, env: Record<string, string>) {
  const output = await new Deno.Command(command, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("the installed command runs the CLI with its permissions, from anywhere", () => {
  const script = launcherScript("/opt/deno/bin/deno", "2.9.6");
  assert.match(script, /^#!\/bin\/sh\n/);
  for (const flag of cliPermissionFlags()) assert.ok(script.includes(`'${flag}'`), flag);
  assert.ok(!script.includes("INIT_CWD"), "only the task may move to INIT_CWD");
  assert.ok(script.includes(`'--config=${join(PROJECT_ROOT, "deno.json")}'`));
  assert.match(script, /exec npx -y 'deno@2\.9\.6' /);
});

Deno.test("deno task install:cli --root DIR; DIR/bin/simfluence works from another folder", async () => {
  const root = await Deno.makeTempDir({ prefix: "simfluence-install-" });
  const elsewhere = await Deno.makeTempDir({ prefix: "simfluence-cwd-" });
  const service = await startService();
  try {
    const installed = await run(
      Deno.execPath(),
      ["task", "--quiet", "install:cli", "--root", root],
      PROJECT_ROOT,
      plainShellEnv(),
    );
    assert.equal(installed.code, 0, installed.stderr);
    const command = join(root, "bin", "simfluence");
    assert.match(installed.stdout, new RegExp(`installed ${command}`));
    assert.ok((Deno.statSync(command).mode! & 0o111) !== 0, "executable");

    // A plain shell's environment with a PATH that has no deno on it.
    const env = plainShellEnv({ PATH: "/usr/bin:/bin" });
    const help = await run(command, ["--help"], elsewhere, env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: simfluence \[options\] \[command\]/);
    const sub = await run(command, ["influence", "scores", "--help"], elsewhere, env);
    assert.equal(sub.code, 0, sub.stderr);

    // A relative file name means the folder the command was typed in.
    await Deno.writeTextFile(join(elsewhere, "tiny.jsonl"), '{"id": "a", "text": "one two"}\n');
    const up = await run(
      command,
      ["--url", service.url, "--json", "datasets", "upload", "tiny.jsonl"],
      elsewhere,
      env,
    );
    assert.equal(up.code, 0, up.stderr);
    assert.equal(JSON.parse(up.stdout).name, "tiny");

    // Installing again replaces the command.
    const again = await run(
      Deno.execPath(),
      ["task", "--quiet", "install:cli", "--root", root],
      PROJECT_ROOT,
      plainShellEnv(),
    );
    assert.equal(again.code, 0, again.stderr);
  } finally {
    await service.stop();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(elsewhere, { recursive: true });
  }
});
