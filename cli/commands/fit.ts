// simfluence fit: start fitting a simulator, follow the job, print the fit.
import { Command, Option } from "commander";
import { contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { list, runIds } from "../ids.ts";
import { printJson } from "../output.ts";
import { readJsonFile } from "../upload.ts";
import { printSimulator, type Simulator } from "./simulators.ts";

function lambda(value: string): number | "auto" {
  if (value === "auto") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw usageError(`--lambda: "${value}"`);
  return n;
}

export function fitCommand(): Command {
  return new Command("fit")
    .description("fit a simulator on a study's runs; follows the job, then prints the fit")
    .requiredOption("--study <study>", "study")
    .addOption(
      new Option("--kind <kind>", "simulator").choices([
        "linear",
        "additive",
        "multiplicative",
        "scores",
      ]).makeOptionMandatory(),
    )
    .option("--train <runs>", "fitting runs: ids or names, comma-separated or repeated", list)
    .option("--validation <runs>", "runs that choose λ (ids or names)", list)
    .option("--lambda <λ>", 'ridge factor, or "auto" (the service default)', lambda)
    .option("--scores <file>", "kind scores: JSON {test id: {train id: score}}")
    .option("--score-set <id>", "kind scores: a stored influence score set")
    .option("--missing-zero", "kind scores with --score-set: count missing pairs as 0")
    .option("--no-follow", "print the simulator and job ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      if (!options.train?.length) throw usageError("--train needs at least one run");
      const body: Record<string, unknown> = {
        study: options.study,
        kind: options.kind,
        trainRuns: await runIds(ctx, options.study, options.train),
        validationRuns: await runIds(ctx, options.study, options.validation ?? []),
      };
      if (options.lambda !== undefined) body.lambda = options.lambda;
      if (options.scores) body.scores = await readJsonFile(options.scores);
      if (options.scoreSet) body.scoreSet = options.scoreSet;
      if (options.missingZero) body.missing = "zero";
      const started = await ctx.client.post<{ simulator: Simulator; job: string }>(
        "/v1/simulators",
        body,
      );
      if (!options.follow) {
        if (ctx.json) return printJson({ simulator: started.simulator.id, job: started.job });
        return console.log(`simulator ${started.simulator.id}, job ${started.job}`);
      }
      requireSucceeded(await followJob(ctx, started.job, `fit ${options.kind}`));
      const sim = await ctx.client.get<Simulator>(`/v1/simulators/${started.simulator.id}`);
      if (ctx.json) return printJson(sim);
      printSimulator(sim);
    });
}
