// The CLI's permissions, in one place: `deno task cli`, `deno task build:cli` and
// `deno task install:cli` grant exactly these (tests/cli/permissions.test.ts holds deno.json to
// them). Environment access is by name, so every variable the CLI or a library under it reads must
// be listed; an unlisted one is a NotCapable crash in the user's shell, not a prompt we can answer.

/** The CLI's own settings (cli/client.ts). */
export const CLI_ENV = ["SIMFLUENCE_URL", "SIMFLUENCE_API_TOKEN"] as const;

/**
 * What the terminal libraries read to decide on colour: commander (NO_COLOR, FORCE_COLOR,
 * CLICOLOR_FORCE), then Deno's node:tty getColorDepth, which commander's help and cli-progress's
 * stream reach through `process.stderr.hasColors()` (the rest; @colors/colors, cli-table3's
 * optional styling, reads a subset of them).
 */
export const TERMINAL_ENV = [
  "NO_COLOR",
  "FORCE_COLOR",
  "CLICOLOR_FORCE",
  "NODE_DISABLE_COLORS",
  "TERM",
  "COLORTERM",
  "TERM_PROGRAM",
  "TERM_PROGRAM_VERSION",
  "TMUX",
  "CI",
  "CI_NAME",
  "TF_BUILD",
  "AGENT_NAME",
  "TEAMCITY_VERSION",
  "APPVEYOR",
  "BUILDKITE",
  "CIRCLECI",
  "DRONE",
  "GITEA_ACTIONS",
  "GITHUB_ACTIONS",
  "GITLAB_CI",
  "TRAVIS",
] as const;

/**
 * `deno task cli` runs in the repository root; INIT_CWD (set by `deno task`) is where it was typed.
 * Only the task gets it: elsewhere (an npm script's INIT_CWD) it would mean something else.
 */
export const TASK_ONLY_ENV = ["INIT_CWD"] as const;

/** Network, files named on the command line, and the variables above. */
export function cliPermissionFlags(extraEnv: readonly string[] = []): string[] {
  return [
    "--allow-net",
    "--allow-read",
    "--allow-write",
    `--allow-env=${[...CLI_ENV, ...extraEnv, ...TERMINAL_ENV].join(",")}`,
  ];
}
