// A request resolved against its study, checked in full before anything is stored: the study's
// test examples and the objective over them, the study's own curriculum (the base run) whose
// distinct training ids are the candidates, what is kept or dropped by force, and the budget.
// Every problem is a 400 naming the field.
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { listSome, presentIds } from "../runs/run_input.ts";
import { runInStudy } from "../runs/run_reference.ts";
import { RUNS, type StoredRun } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";
import type { OptimizeRequest } from "./schemas.ts";

export interface Objective {
  /** Test ids of the objective, in the study's order. */
  tests: string[];
  /** Their column in the study's loss matrix. */
  columns: number[];
  /** Their weights, summing to 1. */
  weights: number[];
  at: "final" | "mean";
}

export interface Setting {
  study: string;
  /** Every test example of the study (its loss matrix's columns). */
  testIds: string[];
  objective: Objective;
  base: StoredRun;
  /** The base run's distinct trained ids, first-seen order: the candidates. */
  pool: string[];
  /** Ids always kept / always dropped (subsets of the pool). */
  keep: Set<string>;
  exclude: Set<string>;
  /** How many of the pool are kept. */
  keepCount: number;
}

function unknownIds(field: string, ids: string[], what: string): InvalidInputError {
  return new InvalidInputError(
    `${field}: ${ids.length} id(s) ${what}, e.g. ${ids.slice(0, 5).join(", ")}`,
    { field, unknown: listSome(ids) },
    "unknown_ids",
  );
}

function resolveObjective(request: OptimizeRequest, testIds: string[]): Objective {
  const { objective } = request;
  const listed = objective.tests === "all" ? testIds : [...new Set(objective.tests)];
  const known = new Set(testIds);
  const unknown = listed.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw unknownIds("objective.tests", unknown, "are not test examples of the study");
  }
  const weightsIn = objective.weights ?? {};
  const strays = Object.keys(weightsIn).filter((id) => !listed.includes(id));
  if (strays.length > 0) {
    throw unknownIds("objective.weights", strays, "are not among objective.tests");
  }
  const chosen = new Set(listed);
  const tests = testIds.filter((id) => chosen.has(id));
  const raw = tests.map((id) => weightsIn[id] ?? 1);
  const total = raw.reduce((a, b) => a + b, 0);
  if (!(total > 0)) {
    throw new InvalidInputError(
      "objective: the objective has no test with a positive weight",
      { field: "objective.weights" },
      "empty_objective",
    );
  }
  return {
    tests,
    columns: tests.map((id) => testIds.indexOf(id)),
    weights: raw.map((w) => w / total),
    at: objective.at,
  };
}

/** The base run: the given one, the metagradient's run, or the study's oldest plain recording. */
function resolveBaseRun(store: Store, request: OptimizeRequest): string {
  const runs = store.get(RUNS);
  const given = request.baseRun === undefined
    ? null
    : runInStudy(runs, request.study, request.baseRun, "baseRun").id;
  if ("metagradient" in request.method) {
    const field = "method.metagradient.run";
    const own = runInStudy(runs, request.study, request.method.metagradient.run, field).id;
    if (given !== null && given !== own) {
      throw new InvalidInputError(
        "baseRun: the metagradient method descends from its own run; leave baseRun out or name " +
          "that run",
        { field: "baseRun" },
      );
    }
    return own;
  }
  if (given !== null) return given;
  const ids = runs.runIdsOfStudy(request.study);
  const plain = ids.find((id) => {
    const training = runs.provenance(id)?.training;
    return training && !training.mask;
  });
  return plain ?? ids[0];
}

function distinctPresent(base: StoredRun): string[] {
  const ids = new Set<string>();
  for (const step of base.run.steps) for (const id of presentIds(step)) ids.add(id);
  return [...ids];
}

function budgetCount(request: OptimizeRequest, n: number): number {
  const { budget } = request;
  if ("subsetSize" in budget) {
    if (budget.subsetSize > n) {
      throw new InvalidInputError(
        `budget.subsetSize: ${budget.subsetSize} is more than the study curriculum's ${n} ` +
          "training examples",
        { field: "budget.subsetSize", examples: n },
        "budget_too_large",
      );
    }
    return budget.subsetSize;
  }
  const kept = Math.round((1 - budget.dropFraction) * n);
  if (kept < 1 || kept >= n) {
    throw new InvalidInputError(
      `budget.dropFraction: ${budget.dropFraction} of ${n} training examples keeps ${kept}; it ` +
        "must keep at least one and drop at least one",
      { field: "budget.dropFraction", examples: n },
    );
  }
  return kept;
}

export async function resolveSetting(store: Store, request: OptimizeRequest): Promise<Setting> {
  const runs = store.get(RUNS);
  const testIds = runs.studyTestExamples(request.study);
  if (!testIds) throw new NotFoundError(`study "${request.study}"`, { field: "study" });
  const objective = resolveObjective(request, testIds);
  const base = await runs.load(resolveBaseRun(store, request));
  const pool = distinctPresent(base);
  const inPool = new Set(pool);
  const studyIds = new Set(runs.trainIdsOfStudy(request.study));
  const checkIds = (field: "keep" | "exclude") => {
    const ids = [...new Set(request[field] ?? [])];
    const unknown = ids.filter((id) => !studyIds.has(id));
    if (unknown.length > 0) {
      throw unknownIds(field, unknown, "are not training examples of the study");
    }
    const outside = ids.filter((id) => !inPool.has(id));
    if (outside.length > 0) {
      throw unknownIds(field, outside, `are not in the base run ${base.id}'s curriculum`);
    }
    return new Set(ids);
  };
  const keep = checkIds("keep");
  const exclude = checkIds("exclude");
  const both = [...keep].filter((id) => exclude.has(id));
  if (both.length > 0) {
    throw new InvalidInputError(
      `exclude: ${both.length} id(s) are also in keep, e.g. ${both.slice(0, 5).join(", ")}`,
      { field: "exclude", both: listSome(both) },
    );
  }
  const keepCount = budgetCount(request, pool.length);
  if (keepCount < keep.size) {
    throw new InvalidInputError(
      `budget: keeps ${keepCount} training examples, fewer than the ${keep.size} in keep`,
      { field: "budget", kept: keepCount, keep: keep.size },
      "budget_too_small",
    );
  }
  if (keepCount > pool.length - exclude.size) {
    throw new InvalidInputError(
      `budget: keeps ${keepCount} training examples, but only ${pool.length - exclude.size} ` +
        "are not excluded",
      { field: "budget", kept: keepCount, available: pool.length - exclude.size },
      "budget_too_large",
    );
  }
  if (objective.at === "mean" && !("simulator" in request.method)) {
    throw new InvalidInputError(
      'objective.at: "mean" needs the simulator method (the others predict the final loss only)',
      { field: "objective.at" },
    );
  }
  if (request.order === "optimize" && !("simulator" in request.method)) {
    throw new InvalidInputError(
      'order: "optimize" needs the simulator method (the others do not model the order)',
      { field: "order" },
    );
  }
  return {
    study: request.study,
    testIds,
    objective,
    base,
    pool,
    keep,
    exclude,
    keepCount,
  };
}
