// simfluence evaluate: a simulator's metrics on held-out runs, as a table.
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { list, runIds } from "../ids.ts";
import { num, printJson, printTable } from "../output.ts";
import type { Simulator } from "./simulators.ts";

interface Metrics {
  allStepsMse: number | null;
  allStepsMae: number | null;
  finalStepMse: number | null;
  finalStepSpearman: number | null;
  count: number;
}

interface Evaluation {
  simulator: string;
  runs: (Metrics & { run: string; name: string; steps: number })[];
  pooled: Metrics & { meanRunSpearman: number | null };
}

const metrics = (m: Metrics) => [
  num(m.allStepsMse),
  num(m.allStepsMae),
  num(m.finalStepMse),
  num(m.finalStepSpearman),
];

export function evaluateCommand(): Command {
  return new Command("evaluate")
    .description("measure a simulator on runs it was not fitted on")
    .argument("<simulator>", "simulator id")
    .option("--runs <runs>", "held-out runs: ids or names (of the simulator's study)", list)
    .option("--allow-fitting-runs", "also accept runs the simulator was fitted on")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      if (!options.runs?.length) throw usageError("--runs needs at least one run");
      const path = `/v1/simulators/${encodeURIComponent(id)}`;
      const sim = await ctx.client.get<Simulator>(path);
      const evaluation = await ctx.client.post<Evaluation>(`${path}/evaluate`, {
        runs: await runIds(ctx, sim.study, options.runs),
        ...(options.allowFittingRuns ? { allowFittingRuns: true } : {}),
      });
      if (ctx.json) return printJson(evaluation);
      printTable(
        ["run", "name", "steps", "all-steps MSE", "all-steps MAE", "final MSE", "final Spearman"],
        [
          ...evaluation.runs.map((r) => [r.run, r.name, r.steps, ...metrics(r)]),
          ["pooled", "", "", ...metrics(evaluation.pooled)],
        ],
      );
      if (evaluation.pooled.meanRunSpearman !== null) {
        console.log(`mean per-run final-step Spearman: ${num(evaluation.pooled.meanRunSpearman)}`);
      }
    });
}
