// simfluence gradients: projected per-example gradients (TRAK-style dense, LoGra-style Kronecker)
// as a job, followed; their list, metadata, safetensors download and deletion. Score them with
// `simfluence influence projected`.
import { Command, Option } from "commander";
import { contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { integer, list, runIds } from "../ids.ts";
import { bytes, num, pageNote, printJson, printTable } from "../output.ts";

export interface GradientSet {
  id: string;
  status: string;
  error: string | null;
  job: string | null;
  model: string | null;
  source?: unknown;
  dataset: string;
  ids: number;
  projection: { kind: string; dim: number; seed: number };
  parameters: string;
  shape: number[];
  tokens: number | null;
  seconds: number | null;
}

function printGradientSet(set: GradientSet): void {
  printTable(["", ""], [
    ["gradients", set.id],
    ["status", set.status + (set.error ? `: ${set.error}` : "")],
    ["model", set.model ?? "-"],
    ["dataset", set.dataset],
    ["examples", set.ids],
    [
      "projection",
      `${set.projection.kind}, dim ${set.projection.dim}, seed ${set.projection.seed}`,
    ],
    ["parameters", set.parameters],
    ["shape", JSON.stringify(set.shape)],
    ["tokens", set.tokens ?? "-"],
    ["seconds", num(set.seconds)],
  ]);
}

export function gradientsCommand(): Command {
  const gradients = new Command("gradients")
    .description("projected per-example gradients: create (a job), list, show, download, delete");

  gradients.command("create")
    .description("project every example's loss gradient to --dim columns (follows the job)")
    .option("--model <model>", "a stored model (or --run and --step)")
    .option("--run <run>", "a training run whose checkpoint to use (id, or name with --study)")
    .option("--study <study>", "resolve --run by name in this study")
    .option("--step <n>", "the checkpoint's step (with --run)", integer)
    .requiredOption("--dataset <dataset>", "the examples' dataset")
    .option("--ids <ids>", "only these examples", list)
    .addOption(
      new Option("--projection <kind>", "dense (TRAK) or kronecker (LoGra)")
        .choices(["dense", "kronecker"]).makeOptionMandatory(),
    )
    .requiredOption("--dim <n>", "projected dimension", integer)
    .option("--seed <n>", "projection seed (default 0)", integer)
    .addOption(
      new Option("--parameters <p>", "whose gradients (default linear)").choices([
        "all",
        "linear",
        "mlp",
      ]),
    )
    .option("--batch-size <n>", "examples per batch (default 8)", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      if ((options.model === undefined) === (options.run === undefined)) {
        throw usageError("give one of --model and --run (with --step)");
      }
      if ((options.run === undefined) !== (options.step === undefined)) {
        throw usageError("--run and --step go together");
      }
      const run = options.run === undefined
        ? undefined
        : (await runIds(ctx, options.study, [options.run]))[0];
      const started = await ctx.client.post<{ gradients: GradientSet; job: string }>(
        "/v1/gradients",
        {
          model: options.model,
          run,
          step: options.step,
          dataset: options.dataset,
          ids: options.ids,
          projection: { kind: options.projection, dim: options.dim, seed: options.seed },
          parameters: options.parameters,
          batchSize: options.batchSize,
        },
      );
      const { gradients: set, job } = started;
      if (!options.follow) {
        if (ctx.json) return printJson(started);
        return console.log(`gradients ${set.id}, job ${job}`);
      }
      requireSucceeded(await followJob(ctx, job, "gradients"));
      const ready = await ctx.client.get<GradientSet>(`/v1/gradients/${set.id}`);
      if (ctx.json) return printJson(ready);
      printGradientSet(ready);
    });

  gradients.command("list")
    .description("projected-gradient sets, newest first")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "page start", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<
        { gradients: GradientSet[]; total: number; offset: number }
      >(
        "/v1/gradients",
        { limit: options.limit, offset: options.offset },
      );
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "status", "dataset", "examples", "projection", "dim", "parameters"],
        page.gradients.map((g) => [
          g.id,
          g.status,
          g.dataset,
          g.ids,
          g.projection.kind,
          g.projection.dim,
          g.parameters,
        ]),
      );
      console.log(pageNote(page.gradients.length, page.offset, page.total));
    });

  gradients.command("show")
    .description("a projected-gradient set: status, model, dataset, projection, shape")
    .argument("<id>", "gradient set id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const set = await ctx.client.get<GradientSet>(`/v1/gradients/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson(set);
      printGradientSet(set);
    });

  gradients.command("download")
    .description("the projected gradients as safetensors (`gradients` [n, dim], ids in metadata)")
    .argument("<id>", "gradient set id")
    .requiredOption("-o, --output <file>", "where to write the .safetensors file")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      const response = await ctx.client.request(
        "GET",
        `/v1/gradients/${encodeURIComponent(id)}/data`,
      );
      const data = new Uint8Array(await response.arrayBuffer());
      await Deno.writeFile(options.output, data);
      if (ctx.json) return printJson({ gradients: id, file: options.output, bytes: data.length });
      console.log(`wrote ${options.output} (${bytes(data.length)})`);
    });

  gradients.command("delete")
    .description("delete a gradient set and its file (a projection in progress is cancelled)")
    .argument("<id>", "gradient set id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/gradients/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson({ deleted: id });
      console.log(`deleted gradients ${id}`);
    });

  return gradients;
}
