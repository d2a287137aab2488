// simfluence record: record training runs by fine-tuning a stored model; follows the job.
import { Command, Option } from "commander";
import { contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { integer, number, selection } from "../ids.ts";
import { printJson, printTable } from "../output.ts";
import { readJsonFile } from "../upload.ts";
import type { Run } from "./runs.ts";

export function recordCommand(): Command {
  return new Command("record")
    .description("record training runs by fine-tuning a model on a dataset (follows the job)")
    .requiredOption("--model <model>", "stored model")
    .requiredOption("--dataset <dataset>", "dataset of training and test examples")
    .requiredOption("--study <study>", "study the runs are stored in")
    .requiredOption(
      "--train <n|ids>",
      "training examples: a count drawn from the dataset, or ids",
      selection,
    )
    .requiredOption("--test <n|ids>", "test examples: a count, or ids", selection)
    .option("--runs <k>", "how many runs (curricula)", integer, 1)
    .option("--steps <n>", "steps per run", integer)
    .option("--epochs <n>", "epochs per run (instead of --steps)", integer)
    .option("--batch-size <n>", "examples per step", integer, 8)
    .addOption(
      new Option("--optimizer <kind>", "optimizer").choices(["adamw", "sgd"]).default("adamw"),
    )
    .option("--lr <rate>", "learning rate", number, 1e-3)
    .addOption(
      new Option("--curriculum <kind>", "batch order per run").choices(["shuffle", "subsample"])
        .default("shuffle"),
    )
    .option("--subsample-fraction <f>", "with --curriculum subsample", number)
    .option("--seed <n>", "run k is seeded with seed + k", integer)
    .option("--checkpoint-every <n>", "store weights every n steps (for TracIn)", integer)
    .option("--name-prefix <prefix>", "runs are named <prefix>-<k>")
    .option("--request <file>", "JSON with further request fields (e.g. optimizer.schedule)")
    .option("--no-follow", "print the job id and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      if ((options.steps === undefined) === (options.epochs === undefined)) {
        throw usageError("give one of --steps and --epochs");
      }
      const extra = options.request
        ? await readJsonFile(options.request) as Record<string, unknown>
        : {};
      const body: Record<string, unknown> = {
        study: options.study,
        model: options.model,
        dataset: options.dataset,
        trainExamples: options.train,
        testExamples: options.test,
        runs: options.runs,
        steps: options.steps,
        epochs: options.epochs,
        batchSize: options.batchSize,
        optimizer: { kind: options.optimizer, lr: options.lr },
        curriculum: options.curriculum,
        subsampleFraction: options.subsampleFraction,
        seed: options.seed,
        checkpointEvery: options.checkpointEvery,
        namePrefix: options.namePrefix,
        ...extra,
      };
      const started = await ctx.client.post<{ job: string; runNames: string[] }>(
        "/v1/training-runs",
        body,
      );
      if (!options.follow) {
        if (ctx.json) return printJson(started);
        return console.log(`job ${started.job}: runs ${started.runNames.join(", ")}`);
      }
      requireSucceeded(await followJob(ctx, started.job, "record"));
      const names = new Set(started.runNames);
      const runs = (await ctx.client.all<Run>("/v1/runs", "runs", { study: options.study }))
        .filter((r) => names.has(r.name));
      if (ctx.json) return printJson({ job: started.job, runs });
      printTable(
        ["id", "name", "steps", "tests", "train ids"],
        runs.map((r) => [r.id, r.name, r.steps, r.testExamples, r.distinctTrainExamples]),
      );
    });
}
