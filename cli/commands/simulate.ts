// simfluence simulate: stream a simulated curriculum's loss trajectories (SSE) and print them as
// CSV (row by row, as they arrive) or JSON.
import { Command, Option } from "commander";
import { contextOf } from "../context.ts";
import { CliError, EXIT, usageError } from "../errors.ts";
import { counts, integer, list, runIds } from "../ids.ts";
import { note } from "../output.ts";
import { progressBar } from "../progress.ts";
import { readJsonFile } from "../upload.ts";
import { csvRow, formatOf, openOutput } from "../csv.ts";
import type { Simulator } from "./simulators.ts";

interface Meta {
  simulator: string;
  kind: string;
  tests: string[];
  steps: number;
  initialLosses: number[];
}

export function simulateCommand(): Command {
  return new Command("simulate")
    .description("simulate a curriculum's loss trajectories (streamed); CSV or JSON")
    .argument("<simulator>", "simulator id")
    .option("--from-run <run>", "start from this run's curriculum (id or name)")
    .option("--curriculum <file>", "JSON file: batches of training ids, one per step")
    .option("--drop <ids>", "training ids removed from every batch", list)
    .option("--permute <seed>", "shuffle the batch order with this seed", integer)
    .option("--repeat <id=n>", "count each occurrence of id n times (e4=2)", counts)
    .option("--tests <ids>", "only these test examples", list)
    .option("--ignore-unknown", "let training ids the simulator never saw have no effect")
    .option("--chunk-steps <n>", "steps the service computes and sends together", integer)
    .addOption(new Option("--format <format>", "output format (default: csv, or json with --json)")
      .choices(["csv", "json"]))
    .option("-o, --output <file>", "write here instead of stdout (format from .csv/.json)")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      if ((options.fromRun === undefined) === (options.curriculum === undefined)) {
        throw usageError("give one of --from-run and --curriculum");
      }
      const path = `/v1/simulators/${encodeURIComponent(id)}`;
      const body: Record<string, unknown> = {};
      if (options.fromRun !== undefined) {
        const sim = await ctx.client.get<Simulator>(path);
        [body.fromRun] = await runIds(ctx, sim.study, [options.fromRun]);
      }
      if (options.curriculum) body.curriculum = await readJsonFile(options.curriculum);
      if (options.drop) body.drop = options.drop;
      if (options.permute !== undefined) body.permute = options.permute;
      if (options.repeat) body.repeat = options.repeat;
      if (options.tests) body.tests = options.tests;
      if (options.ignoreUnknown) body.unknown = "ignore";
      if (options.chunkSteps !== undefined) body.chunkSteps = options.chunkSteps;

      const format = formatOf(options, ctx.json);
      const bar = progressBar("simulate", !ctx.json);
      const out = await openOutput(options.output);
      let meta: Meta | null = null;
      const trajectories: number[][] = [];
      let finalLosses: unknown = null;
      try {
        const events = ctx.client.events("POST", `${path}/simulate`, { json: body });
        for await (const event of events) {
          const data = JSON.parse(event.data);
          if (event.event === "meta") {
            meta = data as Meta;
            trajectories.push(...meta.tests.map((_, j) => [meta!.initialLosses[j]]));
            if (format === "csv") {
              await out.write(csvRow(["t", ...meta.tests]));
              await out.write(csvRow([0, ...meta.initialLosses]));
            }
          } else if (event.event === "step" && meta) {
            const { t, losses } = data as { t: number; losses: number[] };
            if (format === "csv") await out.write(csvRow([t, ...losses]));
            else losses.forEach((l, j) => trajectories[j].push(l));
            bar.update(t, meta.steps, `step ${t}/${meta.steps}`);
          } else if (event.event === "done") {
            finalLosses = data.finalLosses;
          } else if (event.event === "error") {
            throw new CliError(`simulation failed: ${data.message}`, EXIT.failed);
          }
        }
        if (!meta || finalLosses === null) {
          throw new CliError("the simulation stream ended early", EXIT.connection);
        }
        if (format === "json") {
          const result = {
            simulator: meta.simulator,
            tests: meta.tests,
            steps: meta.steps,
            trajectories: Object.fromEntries(meta.tests.map((z, j) => [z, trajectories[j]])),
            finalLosses,
          };
          await out.write(JSON.stringify(result, null, 2) + "\n");
        }
      } finally {
        bar.stop();
        await out.close();
      }
      if (options.output && !ctx.json) note(`wrote ${options.output}`);
    });
}
