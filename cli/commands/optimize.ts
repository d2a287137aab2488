// simfluence optimize: choose which training examples to keep (and in what order) to lower chosen
// test examples' loss, by a simulator's rollouts, a score set or metagradient descent, and check
// the choice by training (POST /v1/curricula/optimize, a job followed with a progress bar); then
// a table of predicted and observed objectives and gains. `optimize list|show|download|delete`
// work on the kept optimisations.
import { Command, Option } from "commander";
import { type Context, contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { integer, list, number, runIds } from "../ids.ts";
import { note, num, pageNote, printJson, printTable } from "../output.ts";

interface Contribution {
  id: string;
  contribution: number | null;
}

interface VerifiedRun {
  kind: "optimized" | "random";
  index: number | null;
  run: string;
  name: string;
  observed: number;
  predicted: number | null;
  cancelled: boolean;
}

interface Verification {
  status: string;
  runs: VerifiedRun[];
  observed: {
    optimized: number;
    randomMean: number;
    improvement: number;
    interval: { lower: number; upper: number; confidence: number };
    /** Resampling the objective's test examples too (newer services). */
    overTests?: { lower: number; upper: number; confidence: number };
  } | null;
  predicted: { improvement: number | null } | null;
}

/** GET /v1/curricula/optimizations/:id (a list item has no request, result or verification). */
export interface Optimization {
  id: string;
  study: string;
  method: "simulator" | "scores" | "metagradient";
  status: string;
  error: string | null;
  job: string | null;
  budget: { keep: number; of: number };
  objective: { tests: string[]; at: string };
  predicted: { optimized: number | null; own: number | null; randomMean: number | null } | null;
  verified: { improvement: number; lower: number; upper: number } | null;
  createdAt: string;
  result?: {
    curriculum: { kept: string[]; order: number[] };
    predicted: { improvement: number | null };
    changes: { dropped: Contribution[] };
    provenance: Record<string, unknown>;
    seconds: number;
  } | null;
  verification?: Verification | null;
}

/** "id=w" pairs, comma-separated or repeated, into {id: w}. */
function weights(value: string, previous: Record<string, number> = {}) {
  const out = { ...previous };
  for (const pair of list(value)) {
    const eq = pair.lastIndexOf("=");
    if (eq <= 0) throw usageError(`expected id=weight, got "${pair}"`);
    out[pair.slice(0, eq)] = number(pair.slice(eq + 1));
  }
  return out;
}

interface StartOptions {
  study?: string;
  tests?: string[];
  at?: string;
  weights?: Record<string, number>;
  subsetSize?: number;
  dropFraction?: number;
  order?: string;
  keep?: string[];
  exclude?: string[];
  simulator?: string;
  scores?: string;
  metagradientRun?: string;
  iterations?: number;
  stepSize?: number;
  baseRun?: string;
  seed?: number;
  verifyRuns?: number;
  resamples?: number;
  randomCurricula?: number;
  restarts?: number;
  rounds?: number;
  candidates?: number;
  stepEffect?: string;
  follow: boolean;
}

/** The request from the flags; usage errors for what the flags alone can tell. */
async function requestOf(ctx: Context, o: StartOptions): Promise<Record<string, unknown>> {
  if (!o.study) throw usageError("give --study");
  if (!o.tests?.length) throw usageError('give --tests (test example ids, or "all")');
  if ((o.subsetSize === undefined) === (o.dropFraction === undefined)) {
    throw usageError("give one of --subset-size and --drop-fraction");
  }
  const methods = [o.simulator, o.scores, o.metagradientRun].filter((m) => m !== undefined);
  if (methods.length !== 1) {
    throw usageError("give one of --simulator, --scores and --metagradient-run");
  }
  if ((o.metagradientRun === undefined) !== (o.iterations === undefined)) {
    throw usageError("--metagradient-run and --iterations go together");
  }
  if (o.stepSize !== undefined && o.metagradientRun === undefined) {
    throw usageError("--step-size goes with --metagradient-run");
  }
  if (o.resamples !== undefined && o.verifyRuns === undefined) {
    throw usageError("--resamples goes with --verify-runs");
  }
  const search = o.restarts ?? o.rounds ?? o.candidates ?? o.stepEffect;
  if (search !== undefined && o.simulator === undefined) {
    throw usageError("--restarts, --rounds, --candidates and --step-effect go with --simulator");
  }
  const tests = o.tests.length === 1 && o.tests[0] === "all" ? "all" : o.tests;
  let method: Record<string, unknown>;
  if (o.simulator !== undefined) method = { simulator: o.simulator };
  else if (o.scores !== undefined) method = { scores: o.scores };
  else {
    const [run] = await runIds(ctx, o.study, [o.metagradientRun!]);
    method = { metagradient: { run, iterations: o.iterations, stepSize: o.stepSize } };
  }
  const baseRun = o.baseRun === undefined
    ? undefined
    : (await runIds(ctx, o.study, [o.baseRun]))[0];
  return {
    study: o.study,
    objective: { tests, at: o.at, weights: o.weights },
    budget: o.subsetSize !== undefined
      ? { subsetSize: o.subsetSize }
      : { dropFraction: o.dropFraction },
    order: o.order,
    keep: o.keep,
    exclude: o.exclude,
    method,
    baseRun,
    seed: o.seed,
    verify: o.verifyRuns === undefined ? undefined : { runs: o.verifyRuns, resamples: o.resamples },
    randomCurricula: o.randomCurricula,
    search: search === undefined ? undefined : {
      restarts: o.restarts,
      rounds: o.rounds,
      candidates: o.candidates,
      stepEffect: o.stepEffect,
    },
  };
}

const interval = (lower: number, upper: number, confidence = 0.95) =>
  `[${num(lower)}, ${num(upper)}] (${Math.round(confidence * 100)} %)`;

/** The table of a finished optimisation: what was chosen, predicted and observed. */
export function printOptimization(o: Optimization, dropped: number): void {
  const provenance = o.result?.provenance ?? {};
  const methodText = o.method === "simulator"
    ? `simulator ${provenance.simulator ?? ""}`
    : o.method === "scores"
    ? `scores ${provenance.scoreSet ?? ""}`
    : `metagradient (run ${provenance.run ?? ""})`;
  printTable(["", ""], [
    ["optimization", o.id],
    ["study", o.study],
    ["method", methodText],
    ["status", o.status + (o.error ? `: ${o.error}` : "")],
    ["objective", `${o.objective.tests.length} test example(s), ${o.objective.at} loss`],
    ["kept", `${o.budget.keep} of ${o.budget.of} training examples`],
    ...(provenance.baseRun ? [["base run", String(provenance.baseRun)]] : []),
    ...(o.result ? [["seconds", num(o.result.seconds)]] : []),
  ]);
  const v = o.verification ?? null;
  const observed = v?.observed ?? null;
  const runOf = (kind: string) => v?.runs.find((r) => r.kind === kind);
  if (o.predicted) {
    const predictedGain = o.predicted.randomMean === null || o.predicted.optimized === null
      ? null
      : o.predicted.randomMean - o.predicted.optimized;
    printTable(["curriculum", "predicted objective", "observed objective"], [
      [
        "optimised",
        num(o.predicted.optimized),
        num(observed?.optimized ?? runOf("optimized")?.observed),
      ],
      ["random (mean)", num(o.predicted.randomMean), num(observed?.randomMean)],
      ["study's own", num(o.predicted.own), "-"],
      [
        "gain over random",
        num(predictedGain),
        observed
          ? `${num(observed.improvement)} ${
            interval(observed.interval.lower, observed.interval.upper, observed.interval.confidence)
          }`
          : "-",
      ],
      ...(observed?.overTests
        ? [[
          "  resampling tests too",
          "",
          interval(
            observed.overTests.lower,
            observed.overTests.upper,
            observed.overTests.confidence,
          ),
        ]]
        : []),
    ]);
  }
  if (v) {
    console.log(
      `verification ${v.status}: ${v.runs.length} run(s) recorded` +
        (v.runs.some((r) => r.cancelled) ? " (marked cancelled)" : ""),
    );
    printTable(
      ["run", "name", "curriculum", "predicted", "observed"],
      v.runs.map((r) => [
        r.run,
        r.name + (r.cancelled ? " (cancelled)" : ""),
        r.kind === "optimized" ? "optimised" : `random ${r.index! + 1}`,
        num(r.predicted),
        num(r.observed),
      ]),
    );
  }
  const drops = o.result?.changes.dropped ?? [];
  if (drops.length > 0 && dropped > 0) {
    // Most harmful first: the largest predicted rise of the objective had it been kept.
    const harmful = drops.slice().sort((a, b) => (b.contribution ?? 0) - (a.contribution ?? 0));
    console.log(`dropped ${drops.length}; the ${Math.min(dropped, drops.length)} most harmful:`);
    printTable(
      ["dropped id", "contribution if kept"],
      harmful.slice(0, dropped).map((d) => [d.id, num(d.contribution)]),
    );
  }
}

async function showOptimization(ctx: Context, id: string, dropped: number): Promise<void> {
  const o = await ctx.client.get<Optimization>(
    `/v1/curricula/optimizations/${encodeURIComponent(id)}`,
  );
  if (ctx.json) return printJson(o);
  printOptimization(o, dropped);
}

const methodOf = (o: Optimization) => o.method;

export function optimizeCommand(): Command {
  const optimize = new Command("optimize")
    .description(
      "choose the training examples to keep (and their order) for chosen test examples, and " +
        "verify by training (follows the job); `optimize list|show|download|delete`",
    )
    .option("--study <study>", "the study")
    .option("--tests <ids>", 'the objective\'s test examples, or "all"', list)
    .addOption(
      new Option("--at <when>", "the loss at the last step, or the mean over steps (default final)")
        .choices(["final", "mean"]),
    )
    .option("--weights <id=w>", "weight of a test example in the objective (default 1)", weights)
    .option("--subset-size <k>", "budget: keep k of the study curriculum's examples", integer)
    .option("--drop-fraction <f>", "budget: drop this fraction of them", number)
    .addOption(
      new Option("--order <order>", "also reorder the kept batches (simulator only; default keep)")
        .choices(["keep", "optimize"]),
    )
    .option("--keep <ids>", "training ids always kept", list)
    .option("--exclude <ids>", "training ids always dropped", list)
    .option("--simulator <id>", "method: search by rollouts through a ready simulator of the study")
    .option("--scores <id>", "method: drop the most harmful by a score set (the baseline)")
    .option(
      "--metagradient-run <run>",
      "method: metagradient descent on this AdamW run (id or name)",
    )
    .option("--iterations <n>", "metagradient iterations", integer)
    .option(
      "--step-size <s>",
      "metagradient step, relative to the mean |gradient| (default 0.5)",
      number,
    )
    .option("--base-run <run>", "the study's own curriculum (id or name; default: the service's)")
    .option("--seed <n>", "seed of the search, random curricula and bootstrap (default 0)", integer)
    .option("--verify-runs <r>", "verify: record the optimised and r random curricula", integer)
    .option("--resamples <n>", "bootstrap resamples of the verification (default 2000)", integer)
    .option("--random-curricula <n>", "random curricula predicted (default: r, else 8)", integer)
    .option("--restarts <n>", "simulator search: seeded restarts (default 4)", integer)
    .option("--rounds <n>", "simulator search: rounds per restart (default 150)", integer)
    .option("--candidates <n>", "simulator search: curricula per round (default 64)", integer)
    .addOption(
      new Option(
        "--step-effect <how>",
        "simulator search: a step's effects summed (Simfluence, default) or scaled to a mean",
      ).choices(["sum", "mean"]),
    )
    .option("--show-dropped <n>", "how many dropped ids to list, most harmful first", integer, 10)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const body = await requestOf(ctx, options as StartOptions);
      const started = await ctx.client.post<{ optimization: Optimization; job: string }>(
        "/v1/curricula/optimize",
        body,
      );
      const { optimization, job } = started;
      if (!options.follow) {
        if (ctx.json) return printJson(started);
        return console.log(`optimization ${optimization.id}, job ${job}`);
      }
      requireSucceeded(await followJob(ctx, job, `optimize ${methodOf(optimization)}`));
      await showOptimization(ctx, optimization.id, options.showDropped);
    });

  // `optimize` has --study and --seed of its own, and commander gives an option to the first
  // command that knows it: the subcommands read theirs with the parent's (optsWithGlobals).
  optimize.command("list")
    .description("kept optimisations, newest first")
    .option("--study <study>", "only this study's")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "page start", integer, 0)
    .action(async (_options, command: Command) => {
      const ctx = contextOf(command);
      const options = command.optsWithGlobals();
      const page = await ctx.client.get<
        { optimizations: Optimization[]; total: number; offset: number }
      >("/v1/curricula/optimizations", {
        study: options.study,
        limit: options.limit,
        offset: options.offset,
      });
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "study", "method", "status", "kept", "predicted gain", "observed gain"],
        page.optimizations.map((o) => [
          o.id,
          o.study,
          o.method,
          o.status,
          `${o.budget.keep}/${o.budget.of}`,
          num(
            !o.predicted || o.predicted.randomMean === null || o.predicted.optimized === null
              ? null
              : o.predicted.randomMean - o.predicted.optimized,
          ),
          o.verified
            ? `${num(o.verified.improvement)} ${interval(o.verified.lower, o.verified.upper)}`
            : "-",
        ]),
      );
      console.log(pageNote(page.optimizations.length, page.offset, page.total));
    });

  optimize.command("show")
    .description("one optimisation: predicted and observed objectives, gain, verification runs")
    .argument("<id>", "optimization id")
    .option("--show-dropped <n>", "how many dropped ids to list, most harmful first", integer)
    .action(async (id: string, _options, command: Command) => {
      const options = command.optsWithGlobals();
      await showOptimization(contextOf(command), id, options.showDropped ?? 10);
    });

  optimize.command("download")
    .description("the optimised curriculum as JSON, or in GPTfluence's layout (a zip)")
    .argument("<id>", "optimization id")
    .addOption(
      new Option("--format <format>", "file format").choices(["json", "gptfluence"]).default(
        "json",
      ),
    )
    .option("-o, --output <file>", "write here instead of stdout")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      if (options.format === "gptfluence" && !options.output && Deno.stdout.isTerminal()) {
        throw usageError("a zip is not for a terminal: add -o FILE.zip (or pipe it)");
      }
      const response = await ctx.client.request(
        "GET",
        `/v1/curricula/optimizations/${encodeURIComponent(id)}/curriculum`,
        { query: { format: options.format } },
      );
      const data = new Uint8Array(await response.arrayBuffer());
      if (!options.output) return void await Deno.stdout.write(data);
      await Deno.writeFile(options.output, data);
      if (ctx.json) {
        return printJson({ optimization: id, format: options.format, output: options.output });
      }
      note(`wrote ${options.output}`);
    });

  optimize.command("delete")
    .description("delete an optimisation (a running one is cancelled; its runs stay)")
    .argument("<id>", "optimization id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/curricula/optimizations/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson({ deleted: id });
      console.log(`deleted optimization ${id}`);
    });

  return optimize;
}
