// simfluence influence factors|scores|tracin|magic|projected|top: fit influence factors, score
// queries against training examples with them, with TracIn over a run's checkpoints, with exact
// metagradients of a recorded run, or from projected gradients (all jobs, followed), and show a
// query's most helpful and harmful training examples.
import { Command, Option } from "commander";
import { type Context, contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { followJob, requireSucceeded } from "../follow.ts";
import { integer, list, number, runIds } from "../ids.ts";
import { num, printJson, printTable } from "../output.ts";

type Example = { id: string; text?: string; prompt?: string; completion?: string };
interface Top {
  query: string;
  helpful: { id: string; score: number; example?: Example }[];
  harmful: { id: string; score: number; example?: Example }[];
}

function preview(e: Example | undefined): string {
  if (!e) return "";
  const text = (e.text ?? `${e.prompt ?? ""} ⟶ ${e.completion ?? ""}`).replace(/\s+/g, " ");
  return text.length > 60 ? text.slice(0, 59) + "…" : text;
}

async function started(ctx: Context, path: string, body: unknown, key: string, follow: boolean) {
  const answer = await ctx.client.post<Record<string, { id: string } | string>>(path, body);
  const id = (answer[key] as { id: string }).id;
  const job = answer.job as string;
  if (!follow) return { id, job, followed: false };
  requireSucceeded(await followJob(ctx, job, key));
  return { id, job, followed: true };
}

const repeated = (value: string, previous: string[] = []) => [...previous, value];

type Queries = { dataset: string; ids?: string[] } | { examples: { id: string; text: string }[] };

/** --queries (a dataset, maybe --query-ids) or --query texts, named q0, q1, … */
function queriesOf(options: { queries?: string; queryIds?: string[]; query?: string[] }): Queries {
  if (options.queries) return { dataset: options.queries, ids: options.queryIds };
  if (options.query) return { examples: options.query.map((text, i) => ({ id: `q${i}`, text })) };
  throw usageError("give --queries or --query");
}

/** A score set that was started: its ids, or once ready its shape and each query's top examples. */
async function reportScores(
  ctx: Context,
  started: { id: string; job: string; followed: boolean },
  queries: Queries | undefined,
  top: number | undefined,
): Promise<void> {
  const { id, job, followed } = started;
  if (!followed) {
    if (ctx.json) return printJson({ scores: id, job });
    return console.log(`scores ${id}, job ${job}`);
  }
  const set = await ctx.client.get<Record<string, unknown>>(`/v1/influence/scores/${id}`);
  const count = (set.queries as { count?: number } | null)?.count ?? 0;
  const queryIds = top ? await queryIdsOf(ctx, queries, count) : [];
  const tops = await Promise.all(queryIds.map((q) => showTop(ctx, id, q, top!)));
  if (ctx.json) return printJson({ scores: set, top: tops });
  const shape = set.shape as number[] | undefined;
  console.log(`scores ${id}: ${shape?.[0] ?? count} × ${shape?.[1] ?? "?"} (queries × training)`);
  tops.forEach(printTop);
}

async function showTop(ctx: Context, scores: string, query: string, k: number): Promise<Top> {
  return await ctx.client.get<Top>(
    `/v1/influence/scores/${encodeURIComponent(scores)}/top`,
    { query, k },
  );
}

/**
 * The queries' ids, which the score set does not list: the inline ones as named here, the listed
 * ones, or the dataset's first `count` examples (all of them, in order).
 */
async function queryIdsOf(
  ctx: Context,
  queries: Queries | undefined,
  count: number,
): Promise<string[]> {
  if (!queries) return [];
  if ("examples" in queries) return queries.examples.map((e) => e.id);
  if (queries.ids) return queries.ids;
  const page = await ctx.client.get<{ examples: { id: string }[] }>(
    `/v1/datasets/${encodeURIComponent(queries.dataset)}`,
    { limit: Math.min(count, 1000) },
  );
  return page.examples.map((e) => e.id);
}

function printTop(top: Top): void {
  console.log(`query ${top.query}`);
  printTable(
    ["", "rank", "training example", "score", "text"],
    [
      ...top.helpful.map((e, i) => ["helpful", i + 1, e.id, num(e.score), preview(e.example)]),
      ...top.harmful.map((e, i) => ["harmful", i + 1, e.id, num(e.score), preview(e.example)]),
    ],
  );
}

export function influenceCommand(): Command {
  const influence = new Command("influence")
    .description(
      "influence: factors and scores, TracIn, scores from projected gradients, top examples",
    );

  influence.command("factors")
    .description("fit influence factors of a model on a dataset (follows the job)")
    .requiredOption("--model <model>", "stored model")
    .requiredOption("--dataset <dataset>", "training examples' dataset")
    .option("--ids <ids>", "only these training examples", list)
    .addOption(
      new Option("--strategy <s>", "curvature").choices(["ekfac", "kfac", "diagonal", "identity"]),
    )
    .option("--modules <m>", 'tracked modules: "mlp", "all", or module names', list)
    .addOption(new Option("--fisher <f>", "Fisher").choices(["true", "empirical"]))
    .option("--seed <n>", "label sampling seed", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const modules = options.modules?.length === 1 && ["mlp", "all"].includes(options.modules[0])
        ? options.modules[0]
        : options.modules;
      const { id, job, followed } = await started(
        ctx,
        "/v1/influence/factors",
        {
          model: options.model,
          dataset: options.dataset,
          ids: options.ids,
          strategy: options.strategy,
          modules,
          fisher: options.fisher,
          seed: options.seed,
        },
        "factors",
        options.follow,
      );
      const factors = followed
        ? await ctx.client.get<Record<string, unknown>>(`/v1/influence/factors/${id}`)
        : { id, job };
      if (ctx.json) return printJson(factors);
      console.log(`factors ${id}${followed ? "" : `, job ${job}`}`);
      const mods = (factors.modules ?? []) as { name: string; shape?: number[] }[];
      if (mods.length > 0) {
        printTable(
          ["module", "gradient shape"],
          mods.map((m) => [m.name, JSON.stringify(m.shape ?? "")]),
        );
      }
    });

  influence.command("scores")
    .description("score queries against training examples with fitted factors (follows the job)")
    .requiredOption("--factors <id>", "fitted factors")
    .option("--queries <dataset>", "queries: a dataset")
    .option("--query-ids <ids>", "only these queries of the dataset", list)
    .option("--query <text>", "a query given inline (repeatable)", repeated)
    .option("--train <dataset>", "training examples (default: the factors')")
    .option("--train-ids <ids>", "only these training examples", list)
    .option("--self", "self-influence instead of pairwise")
    .option("--damping <λ>", "damping (default: 0.1 × mean eigenvalue per module)", number)
    .option("--query-rank <r>", "low-rank query batching", integer)
    .option("--bm25 <top>", "score only each query's top BM25 matches", integer)
    .option("--per-module", "keep per-module scores")
    .option("--per-token", "keep per-token scores")
    .option("--top <k>", "then show each query's k most helpful and harmful examples", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const queries = options.self ? undefined : queriesOf(options);
      const { id, job, followed } = await started(
        ctx,
        "/v1/influence/scores",
        {
          factors: options.factors,
          queries,
          train: options.train ? { dataset: options.train, ids: options.trainIds } : undefined,
          mode: options.self ? "self" : undefined,
          damping: options.damping,
          queryRank: options.queryRank,
          filter: options.bm25 ? { method: "bm25", top: options.bm25 } : undefined,
          perModule: options.perModule,
          perToken: options.perToken,
        },
        "scores",
        options.follow,
      );
      await reportScores(
        ctx,
        { id, job, followed },
        queries,
        options.self ? undefined : options.top,
      );
    });

  influence.command("tracin")
    .description("TracIn-CP over a recorded run's checkpoints (follows the job)")
    .requiredOption(
      "--run <run>",
      "a run recorded with --checkpoint-every (id, or name with --study)",
    )
    .option("--study <study>", "resolve the run by name in this study")
    .option("--queries <dataset>", "queries: a dataset")
    .option("--query-ids <ids>", "only these queries of the dataset", list)
    .option("--query <text>", "a query given inline (repeatable)", repeated)
    .option("--train <dataset>", "training examples (default: the run's, from its dataset)")
    .option("--train-ids <ids>", "only these training examples", list)
    .addOption(
      new Option("--parameters <p>", "whose gradients").choices(["all", "linear", "mlp"]),
    )
    .addOption(
      new Option("--projection <kind>", "project the gradients first").choices([
        "dense",
        "kronecker",
      ]),
    )
    .option("--dim <n>", "projected dimension (with --projection)", integer)
    .option("--seed <n>", "projection seed", integer)
    .option("--top <k>", "then show each query's k most helpful and harmful examples", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      if ((options.projection === undefined) !== (options.dim === undefined)) {
        throw usageError("--projection and --dim go together");
      }
      const queries = queriesOf(options);
      const [run] = await runIds(ctx, options.study, [options.run]);
      const { id, job, followed } = await started(
        ctx,
        "/v1/influence/tracin",
        {
          run,
          queries,
          train: options.train ? { dataset: options.train, ids: options.trainIds } : undefined,
          parameters: options.parameters,
          projection: options.projection
            ? { kind: options.projection, dim: options.dim, seed: options.seed }
            : undefined,
        },
        "scores",
        options.follow,
      );
      await reportScores(ctx, { id, job, followed }, queries, options.top);
    });

  influence.command("magic")
    .description(
      "exact metagradients of a recorded AdamW run (MAGIC): replays the run and reverses it " +
        "once per query (follows the job)",
    )
    .requiredOption("--run <run>", "a run recorded here with AdamW (id, or name with --study)")
    .option("--study <study>", "resolve the run by name in this study")
    .option("--queries <dataset>", "queries: a dataset")
    .option("--query-ids <ids>", "only these queries of the dataset", list)
    .option("--query <text>", "a query given inline (repeatable)", repeated)
    .addOption(
      new Option("--checkpointing <policy>", "states kept for the reverse pass (default sqrt)")
        .choices(["sqrt", "log", "all"]),
    )
    .option("--top <k>", "then show each query's k most helpful and harmful examples", integer)
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const queries = queriesOf(options);
      const [run] = await runIds(ctx, options.study, [options.run]);
      const { id, job, followed } = await started(
        ctx,
        "/v1/influence/metagradients",
        { run, queries, checkpointing: options.checkpointing },
        "scores",
        options.follow,
      );
      await reportScores(ctx, { id, job, followed }, queries, options.top);
    });

  influence.command("projected")
    .description(
      "scores from projected gradients: dot, cosine or TRAK (follows the job; gradients from " +
        "`simfluence gradients create`)",
    )
    .requiredOption("--train-gradients <id>", "projected training gradients")
    .requiredOption("--query-gradients <id>", "projected query gradients (same model, projection)")
    .addOption(
      new Option("--method <m>", "φ_qᵀφ_m, cosine, or TRAK's φ_qᵀ(ΦᵀΦ + λI)⁻¹φ_m (default dot)")
        .choices(["dot", "cosine", "trak"]),
    )
    .option("--damping <λ>", "TRAK's λ (default 0.1 × the mean eigenvalue of ΦᵀΦ)", number)
    .option("--top <k>", "then show each query's k most helpful and harmful examples", integer)
    .option(
      "--query-ids <ids>",
      "with --top: the query gradients' example ids (default: their dataset's first examples)",
      list,
    )
    .option("--no-follow", "print the ids and return at once")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      if (options.damping !== undefined && options.method !== "trak") {
        throw usageError("--damping goes with --method trak");
      }
      const { id, job, followed } = await started(
        ctx,
        "/v1/influence/scores",
        {
          gradients: { train: options.trainGradients, queries: options.queryGradients },
          method: options.method,
          damping: options.damping,
        },
        "scores",
        options.follow,
      );
      let queries: Queries | undefined;
      if (followed && options.top) {
        const set = await ctx.client.get<{ dataset: string }>(
          `/v1/gradients/${encodeURIComponent(options.queryGradients)}`,
        );
        queries = { dataset: set.dataset, ids: options.queryIds };
      }
      await reportScores(ctx, { id, job, followed }, queries, options.top);
    });

  influence.command("top")
    .description("a query's most helpful and most harmful training examples")
    .argument("<scores>", "score set id")
    .requiredOption("--query <id>", "query id")
    .option("-k, --k <k>", "how many of each", integer, 10)
    .action(async (scores: string, options, command: Command) => {
      const ctx = contextOf(command);
      const top = await showTop(ctx, scores, options.query, options.k);
      if (ctx.json) return printJson(top);
      printTop(top);
    });

  return influence;
}
