// `--help` as a user types it: every command and subcommand, in a plain shell (no NO_COLOR,
// FORCE_COLOR or CI) and on terminals that make the colour libraries read more of the
// environment, with exactly the permissions the deno.json tasks grant. A variable the task does
// not list is a NotCapable crash here, as it was in the user's shell (issue 17).
import assert from "node:assert/strict";
import type { Command } from "commander";
import { buildProgram } from "../../cli/main.ts";
import { cliPermissionFlags, TASK_ONLY_ENV } from "../../cli/permissions.ts";
import { runCli, runCliInTerminal, scriptPath, taskPermissionFlags } from "./harness.ts";

/** Every command path: [], ["runs"], ["runs", "upload"], … */
function commandPaths(command: Command, path: string[] = []): string[][] {
  return [path, ...command.commands.flatMap((c) => commandPaths(c, [...path, c.name()]))];
}

const PATHS = commandPaths(buildProgram());

/** Runs `work` over `items`, `width` at a time (each runs a Deno process). */
async function pool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  }));
  return results;
}

Deno.test("the tasks grant the CLI's permissions (cli/permissions.ts), nothing else", () => {
  assert.deepEqual(taskPermissionFlags("cli"), cliPermissionFlags(TASK_ONLY_ENV));
  assert.deepEqual(taskPermissionFlags("build:cli"), cliPermissionFlags());
});

Deno.test("--help of every command and subcommand: exit 0 and its usage", async () => {
  assert.ok(PATHS.length > 40, `only ${PATHS.length} commands found`);
  const failures: string[] = [];
  await pool(PATHS, 3, async (path) => {
    const res = await runCli([...path, "--help"]);
    const usage = new RegExp(
      `^Usage: simfluence${path.map((p) => ` ${p}`).join("")} \\[options\\]`,
    );
    if (res.code !== 0 || !usage.test(res.stdout) || res.stderr !== "") {
      failures.push(`${path.join(" ")} --help: exit ${res.code}\n${res.stdout}${res.stderr}`);
    }
  });
  assert.deepEqual(failures, []);
});

Deno.test("a usage error points to --help: exit 2, the message, no crash", async () => {
  const res = await runCli(["runs", "upload"]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /missing required argument/);
  assert.match(res.stderr, /\(add --help for usage\)/);
  assert.doesNotMatch(res.stderr, /NotCapable/);
});

// Each of these makes node:tty's colour-depth check read further down its list of variables.
const TERMINALS: Record<string, string>[] = [
  {},
  { TERM: "xterm-256color", COLORTERM: "truecolor" },
  { TERM: "dumb" },
  { TERM: "screen", TMUX: "/tmp/tmux-0/default,1,0" },
  { CI: "true", GITHUB_ACTIONS: "true" },
  { CI: "1", CI_NAME: "codeship" },
  { TF_BUILD: "True", AGENT_NAME: "agent" },
  { TEAMCITY_VERSION: "2023.1" },
  { TERM_PROGRAM: "iTerm.app", TERM_PROGRAM_VERSION: "3.4" },
  { FORCE_COLOR: "1", NO_COLOR: "1" },
  { CLICOLOR_FORCE: "1" },
  { NODE_DISABLE_COLORS: "1" },
];

Deno.test({
  name: "--help on a terminal, whatever the terminal's variables",
  ignore: scriptPath === undefined,
  fn: async () => {
    const failures: string[] = [];
    await pool(TERMINALS, 3, async (env) => {
      for (const path of [[], ["influence", "scores"]]) {
        const res = await runCliInTerminal([...path, "--help"], env);
        if (
          res.code !== 0 || !/Usage: simfluence/.test(res.stdout) || /NotCapable/.test(res.stdout)
        ) {
          failures.push(
            `${JSON.stringify(env)} ${path.join(" ")}: exit ${res.code}\n${res.stdout}`,
          );
        }
      }
    });
    assert.deepEqual(failures, []);
  },
});
