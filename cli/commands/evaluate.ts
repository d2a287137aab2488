// simfluence evaluate: a simulator's metrics on held-out runs, as a table; `evaluate lds` the
// linear datamodeling score of a simulator or a score set on a study's runs (a job, followed), and
// `evaluate list|show|delete` the evaluations the service keeps.
import { Command } from "commander";
import { type Context, contextOf } from "../context.ts";
import { ServerError, usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { integer, list, runIds } from "../ids.ts";
import { num, pageNote, printJson, printTable } from "../output.ts";
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

type IdList = { ids: string[]; total: number };

interface LdsEvaluation {
  id: string;
  study: string;
  method: { simulator: string } | { scores: string };
  status: string;
  error: string | null;
  job: string | null;
  runs: IdList;
  baseRun: string | null;
  prediction: string | null;
  lds: number | null;
  interval: { lower: number; upper: number; confidence: number } | null;
  scoredTests: number | null;
  constantTests: number | null;
  fittingRuns: IdList | null;
  tests?: { test: string; spearman: number | null }[];
}

const metrics = (m: Metrics) => [
  num(m.allStepsMse),
  num(m.allStepsMae),
  num(m.finalStepMse),
  num(m.finalStepSpearman),
];

/**
 * The service's 409 for runs a simulator was fitted on says what to send in JSON; on the command
 * line that is a flag.
 */
async function withFittingRunsHint<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    const details = e instanceof ServerError
      ? e.body.error.details as { fittingRuns?: unknown } | null | undefined
      : undefined;
    if (e instanceof ServerError && e.status === 409 && details?.fittingRuns !== undefined) {
      e.hint = "to measure on them anyway, add --allow-fitting-runs (the metrics then flatter " +
        "the simulator)";
    }
    throw e;
  }
}

const methodText = (m: LdsEvaluation["method"]) =>
  "simulator" in m ? `simulator ${m.simulator}` : `scores ${m.scores}`;

function printLds(evaluation: LdsEvaluation): void {
  const interval = evaluation.interval
    ? `[${num(evaluation.interval.lower)}, ${num(evaluation.interval.upper)}] ` +
      `(${Math.round(evaluation.interval.confidence * 100)} %)`
    : "-";
  printTable(["", ""], [
    ["evaluation", evaluation.id],
    ["study", evaluation.study],
    ["method", methodText(evaluation.method)],
    ["status", evaluation.status + (evaluation.error ? `: ${evaluation.error}` : "")],
    ["runs", evaluation.runs.total],
    ...(evaluation.baseRun ? [["base run", evaluation.baseRun]] : []),
    ["LDS", num(evaluation.lds)],
    ["interval", interval],
    ["scored tests", evaluation.scoredTests ?? "-"],
    ["constant tests", evaluation.constantTests ?? "-"],
    ["fitting runs", evaluation.fittingRuns?.total ?? 0],
  ]);
  if (evaluation.tests && evaluation.tests.length > 0) {
    printTable(
      ["test", "Spearman ρ"],
      evaluation.tests.map((t) => [t.test, num(t.spearman)]),
    );
  }
}

function ldsCommand(): Command {
  return new Command("lds")
    .description(
      "linear datamodeling score of a simulator or a score set on a study's runs (follows the job)",
    )
    .requiredOption("--study <study>", "the study")
    .option("--runs <runs>", "at least 5 runs of the study: ids or names", list)
    .option("--simulator <id>", "the method: a ready simulator of the study")
    .option("--scores <id>", "the method: a ready pairwise influence score set")
    .option("--base-run <run>", "the runs are mask runs of this run (id or name)")
    .option("--allow-fitting-runs", "also accept runs the simulator was fitted on")
    .option("--resamples <n>", "bootstrap resamples (default 1000)", integer)
    .option("--seed <n>", "bootstrap seed (default 0)", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      // `evaluate` itself has --runs and --allow-fitting-runs, and commander gives an option to
      // the first command that knows it: read them with the parent's.
      const options = command.optsWithGlobals();
      if (!options.runs?.length) throw usageError("--runs needs at least one run");
      if ((options.simulator === undefined) === (options.scores === undefined)) {
        throw usageError("give one of --simulator and --scores");
      }
      const runs = await runIds(ctx, options.study, options.runs);
      const bootstrap = options.resamples !== undefined || options.seed !== undefined
        ? { resamples: options.resamples, seed: options.seed }
        : undefined;
      const started = await withFittingRunsHint(() =>
        ctx.client.post<{ evaluation: LdsEvaluation; job: string }>("/v1/evaluations/lds", {
          study: options.study,
          runs,
          method: options.simulator ? { simulator: options.simulator } : { scores: options.scores },
          // The service takes the base run by id or name.
          baseRun: options.baseRun,
          ...(options.allowFittingRuns ? { allowFittingRuns: true } : {}),
          bootstrap,
        })
      );
      const { evaluation, job } = started;
      if (!options.follow) {
        if (ctx.json) return printJson(started);
        return console.log(`evaluation ${evaluation.id}, job ${job}`);
      }
      requireSucceeded(await followJob(ctx, job, "lds"));
      await showEvaluation(ctx, evaluation.id);
    });
}

async function showEvaluation(ctx: Context, id: string): Promise<void> {
  const evaluation = await ctx.client.get<LdsEvaluation>(
    `/v1/evaluations/${encodeURIComponent(id)}`,
  );
  if (ctx.json) return printJson(evaluation);
  printLds(evaluation);
}

export function evaluateCommand(): Command {
  const evaluate = new Command("evaluate")
    .description("measure a simulator on runs it was not fitted on; `evaluate lds` for the LDS")
    .argument("<simulator>", "simulator id")
    .option("--runs <runs>", "held-out runs: ids or names (of the simulator's study)", list)
    .option("--allow-fitting-runs", "also accept runs the simulator was fitted on")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      if (!options.runs?.length) throw usageError("--runs needs at least one run");
      const path = `/v1/simulators/${encodeURIComponent(id)}`;
      const sim = await ctx.client.get<Simulator>(path);
      const runs = await runIds(ctx, sim.study, options.runs);
      const evaluation = await withFittingRunsHint(() =>
        ctx.client.post<Evaluation>(`${path}/evaluate`, {
          runs,
          ...(options.allowFittingRuns ? { allowFittingRuns: true } : {}),
        })
      );
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

  evaluate.addCommand(ldsCommand());

  evaluate.command("list")
    .description("kept evaluations, newest first")
    .option("--study <study>", "only this study's")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "page start", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<
        { evaluations: LdsEvaluation[]; total: number; offset: number }
      >("/v1/evaluations", { study: options.study, limit: options.limit, offset: options.offset });
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "study", "method", "status", "runs", "LDS", "interval"],
        page.evaluations.map((e) => [
          e.id,
          e.study,
          methodText(e.method),
          e.status,
          e.runs.total,
          num(e.lds),
          e.interval ? `[${num(e.interval.lower)}, ${num(e.interval.upper)}]` : "-",
        ]),
      );
      console.log(pageNote(page.evaluations.length, page.offset, page.total));
    });

  evaluate.command("show")
    .description("one evaluation: method, runs, LDS, interval and ρ per test example")
    .argument("<id>", "evaluation id")
    .action(async (id: string, _options, command: Command) => {
      await showEvaluation(contextOf(command), id);
    });

  evaluate.command("delete")
    .description("delete an evaluation")
    .argument("<id>", "evaluation id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/evaluations/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson({ deleted: id });
      console.log(`deleted evaluation ${id}`);
    });

  return evaluate;
}
