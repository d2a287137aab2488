// simfluence: the command-line client of the Simfluence service. Parses the command line
// (commander), runs one command against the service, and exits with a code that says how it went
// (cli/errors.ts; docs/cli.md lists them).
import { Command, CommanderError } from "commander";
import { DEFAULT_URL, TOKEN_ENV, URL_ENV } from "./client.ts";
import { CliError, EXIT, type ExitCode, ServerError } from "./errors.ts";
import { datasetsCommand } from "./commands/datasets.ts";
import { deviceCommand } from "./commands/device.ts";
import { evaluateCommand } from "./commands/evaluate.ts";
import { fitCommand } from "./commands/fit.ts";
import { gradientsCommand } from "./commands/gradients.ts";
import { influenceCommand } from "./commands/influence.ts";
import { jobsCommand } from "./commands/jobs.ts";
import { modelsCommand } from "./commands/models.ts";
import { optimizeCommand } from "./commands/optimize.ts";
import { recordCommand } from "./commands/record.ts";
import { runsCommand } from "./commands/runs.ts";
import { simulateCommand } from "./commands/simulate.ts";
import { simulationsCommand } from "./commands/simulations.ts";
import { simulatorsCommand } from "./commands/simulators.ts";
import { studiesCommand } from "./commands/studies.ts";

export const VERSION = "0.1.0";

export function buildProgram(): Command {
  const program = new Command("simfluence")
    .description("Command-line client of the Simfluence service (training-data attribution)")
    .version(VERSION)
    .option("--url <url>", `service address (default: $${URL_ENV} or ${DEFAULT_URL})`)
    .option("--json", "print JSON on stdout, for scripts")
    .addHelpText(
      "after",
      `\nThe API token, when the service needs one, is read from $${TOKEN_ENV}.\n` +
        "Exit codes: 0 ok, 1 operation failed, 2 usage, 3 not found, 4 auth, 5 connection.",
    )
    .exitOverride();
  for (
    const command of [
      runsCommand,
      fitCommand,
      evaluateCommand,
      simulateCommand,
      simulatorsCommand,
      simulationsCommand,
      recordCommand,
      studiesCommand,
      jobsCommand,
      modelsCommand,
      datasetsCommand,
      influenceCommand,
      gradientsCommand,
      optimizeCommand,
      deviceCommand,
    ]
  ) {
    program.addCommand(command());
  }
  // addCommand does not pass settings down: every command throws instead of exiting, so that
  // usage errors end in exit code 2 (report below).
  const configure = (command: Command) => {
    command.exitOverride().showHelpAfterError("(add --help for usage)")
      .configureHelp({ showGlobalOptions: true });
    command.commands.forEach(configure);
  };
  configure(program);
  return program;
}

/** Prints what went wrong: the server's message as it sent it, or the CLI's own. */
function report(error: unknown, json: boolean): ExitCode {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    const benign = ["commander.helpDisplayed", "commander.version", "commander.help"];
    return benign.includes(error.code) || error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  // The reader of stdout went away (`| head`): nothing more to say, and not a failure.
  if (error instanceof Deno.errors.BrokenPipe) return EXIT.ok;
  if (error instanceof ServerError) {
    if (json) {
      console.error(JSON.stringify(error.body));
    } else {
      const { code, details } = error.body.error;
      console.error(`error: ${error.body.error.message}`);
      const extra = details === null || details === undefined ? "" : ` ${JSON.stringify(details)}`;
      console.error(`  (HTTP ${error.status} ${code}${extra})`);
      if (error.retryAfter) console.error(`  retry after ${error.retryAfter} s`);
      if (error.hint) console.error(`  hint: ${error.hint}`);
    }
    return error.exitCode;
  }
  if (error instanceof CliError) {
    console.error(
      json
        ? JSON.stringify({ error: { code: "cli", message: error.message } })
        : `error: ${error.message}`,
    );
    return error.exitCode;
  }
  console.error(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  return EXIT.failed;
}

export async function main(args: string[]): Promise<ExitCode> {
  const program = buildProgram();
  try {
    await program.parseAsync(args, { from: "user" });
    return EXIT.ok;
  } catch (e) {
    return report(e, args.includes("--json"));
  }
}

if (import.meta.main) {
  // `deno task cli` runs in the repository root; file arguments are relative to where it was typed.
  // (The compiled binary is not granted INIT_CWD and runs where it was typed anyway.)
  const granted = Deno.permissions.querySync({ name: "env", variable: "INIT_CWD" });
  const typedIn = granted.state === "granted" ? Deno.env.get("INIT_CWD") : undefined;
  if (typedIn) Deno.chdir(typedIn);
  Deno.exit(await main(Deno.args));
}
