// A training run as uploaded, before it is stored: the checks every upload format shares.
//
// Losses are (T+1) x m row-major f32: row 0 is before training, row t after step t.

import { InvalidInputError } from "../errors.ts";
import { identifierProblem } from "../identifiers.ts";
import {
  checkBatchSize,
  checkStudyTrainIds,
  DEFAULT_RUN_LIMITS,
  type RunLimits,
} from "./run_limits.ts";

export const MAX_ID_LENGTH = 256;
/** How many offending entries an error lists before it stops counting them individually. */
const MAX_LISTED = 20;

export interface RunStep {
  batch: string[];
  lr?: number;
  /**
   * Data weights of the batch's entries (same length; absent: all 1). An entry of weight 0 was in
   * the batch's slot but not in the loss (a mask run): readers of curricula treat it as absent.
   */
  weights?: number[];
}

/** Every id of the steps' batches (weight 0 included), in first-seen order. */
export function distinctIds(steps: readonly RunStep[]): string[] {
  const ids = new Set<string>();
  for (const step of steps) for (const id of step.batch) ids.add(id);
  return [...ids];
}

/** The ids a step trained on: its batch without the entries of weight 0. */
export function presentIds(step: RunStep): string[] {
  return step.weights ? step.batch.filter((_, k) => step.weights![k] !== 0) : step.batch;
}

export interface RunInput {
  study: string;
  name: string;
  testExamples: string[];
  steps: RunStep[];
  losses: Float32Array;
}

export interface RunShape {
  steps: number;
  testExamples: number;
  distinctTrainExamples: number;
}

export function runShape(run: Pick<RunInput, "steps" | "testExamples">): RunShape {
  const distinct = new Set<string>();
  for (const step of run.steps) for (const id of step.batch) distinct.add(id);
  return {
    steps: run.steps.length,
    testExamples: run.testExamples.length,
    distinctTrainExamples: distinct.size,
  };
}

function invalid(
  field: string,
  message: string,
  extra: Record<string, unknown> = {},
): InvalidInputError {
  return new InvalidInputError(`${field}: ${message}`, { field, ...extra }, "invalid_run");
}

export function checkId(id: string, field: string): void {
  if (id.length === 0) throw invalid(field, "ids must not be empty");
  if (id.length > MAX_ID_LENGTH) {
    throw invalid(field, `id is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  }
  const problem = identifierProblem(id);
  if (problem) throw invalid(field, problem);
}

export function checkTestExamples(ids: readonly string[], field = "testExamples"): void {
  if (ids.length === 0) throw invalid(field, "at least one test example is required");
  const seen = new Set<string>();
  ids.forEach((id, j) => {
    checkId(id, `${field}.${j}`);
    if (seen.has(id)) throw invalid(`${field}.${j}`, `test example "${id}" is listed twice`);
    seen.add(id);
  });
}

export function checkStep(step: RunStep, field: string): void {
  if (step.batch.length === 0) throw invalid(`${field}.batch`, "a batch must not be empty");
  step.batch.forEach((id, k) => checkId(id, `${field}.batch.${k}`));
  if (step.lr !== undefined && !(Number.isFinite(step.lr) && step.lr >= 0)) {
    throw invalid(
      `${field}.lr`,
      `learning rate must be a finite non-negative number, got ${step.lr}`,
    );
  }
  if (step.weights !== undefined) {
    if (step.weights.length !== step.batch.length) {
      throw invalid(
        `${field}.weights`,
        `has ${step.weights.length} entries for a batch of ${step.batch.length}`,
      );
    }
    const bad = step.weights.findIndex((w) => !(Number.isFinite(w) && w >= 0));
    if (bad >= 0) {
      throw invalid(
        `${field}.weights.${bad}`,
        `a data weight must be a finite non-negative number, got ${step.weights[bad]}`,
      );
    }
  }
}

/** Checks one row of losses and writes it into `out` at row `t`. */
export function checkLossRow(row: readonly unknown[], m: number, field: string): Float32Array {
  if (row.length !== m) {
    throw invalid(field, `has ${row.length} losses but there are ${m} test examples`);
  }
  const out = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const v = row[j];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw invalid(`${field}.${j}`, `loss must be a finite number, got ${JSON.stringify(v)}`);
    }
    if (v < 0) throw invalid(`${field}.${j}`, `loss must not be negative, got ${v}`);
    out[j] = v;
  }
  return out;
}

/**
 * The run's own share of the limits: each batch's size, and its distinct training ids (a run
 * alone over the study's limit can never be stored; the study's union is checked when storing).
 * Returns the run's distinct training ids.
 */
export function checkRunLimits(
  run: Pick<RunInput, "study" | "steps">,
  limits: RunLimits,
): Set<string> {
  const distinct = new Set<string>();
  run.steps.forEach((step, t) => {
    const field = `steps.${t}.batch`;
    checkBatchSize(step.batch.length, limits, { field });
    for (const id of step.batch) distinct.add(id);
    checkStudyTrainIds(distinct.size, limits, { field, study: run.study });
  });
  return distinct;
}

/**
 * Validates a whole run; throws a 400 naming the first field at fault, or a 413 naming the limit
 * a batch or the run's training ids pass.
 */
export function validateRunInput(run: RunInput, limits: RunLimits = DEFAULT_RUN_LIMITS): void {
  checkId(run.study, "study");
  checkId(run.name, "name");
  checkTestExamples(run.testExamples);
  if (run.steps.length === 0) throw invalid("steps", "a run needs at least one step");
  checkRunLimits(run, limits);
  run.steps.forEach((step, t) => checkStep(step, `steps.${t}`));
  const m = run.testExamples.length;
  const rows = run.losses.length / m;
  if (rows !== run.steps.length + 1) {
    throw invalid(
      "losses",
      `has ${rows} rows but ${run.steps.length} steps need ${
        run.steps.length + 1
      } (row 0 is before training)`,
    );
  }
  for (let i = 0; i < run.losses.length; i++) {
    const v = run.losses[i];
    if (!Number.isFinite(v) || v < 0) {
      const why = Number.isFinite(v) ? "must not be negative" : "must be finite";
      throw invalid(`losses.${Math.floor(i / m)}.${i % m}`, `loss ${why}, got ${v}`);
    }
  }
}

/** Lists up to MAX_LISTED entries of a set difference, for 409/400 details. */
export function listSome(ids: Iterable<string>): { ids: string[]; total: number } {
  const all = [...ids];
  return { ids: all.slice(0, MAX_LISTED), total: all.length };
}
