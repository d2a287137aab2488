// Stored runs in the index form the Simfluence math works on, against one training universe.
import { presentIds } from "../runs/run_input.ts";
import { InvalidInputError } from "../errors.ts";
import type { RunStep } from "../runs/run_input.ts";
import type { RunStore, StoredRun } from "../runs/run_store.ts";
import { jsonArraySteps } from "./json_array_steps.ts";
import type { Run } from "./math/types.ts";
import { runCooperatively, type TimeSlice, YIELD_EVERY } from "./math/time_slice.ts";

/**
 * Loads runs by id, checking that each exists and belongs to `study`; errors name `field[k]`.
 * With a `slice`, the stored curricula are parsed giving the event loop turns.
 */
export async function loadStudyRuns(
  runs: RunStore,
  study: string,
  ids: readonly string[],
  field: string,
  slice?: TimeSlice,
): Promise<StoredRun[]> {
  const loaded: StoredRun[] = [];
  for (const [k, id] of ids.entries()) {
    const record = runs.get(id);
    if (!record) {
      throw new InvalidInputError(`${field}.${k}: run ${id} does not exist`, {
        field: `${field}.${k}`,
        run: id,
      });
    }
    if (record.study !== study) {
      throw new InvalidInputError(
        `${field}.${k}: run ${id} belongs to study "${record.study}", not "${study}"`,
        { field: `${field}.${k}`, run: id },
      );
    }
    loaded.push(await runs.load(id, slice && ((json) => parseStepsCooperative(json, slice))));
  }
  return loaded;
}

/** A stored curriculum, parsed step by step (it may be megabytes of ids). */
function parseStepsCooperative(json: string, slice: TimeSlice): Promise<RunStep[]> {
  return runCooperatively(jsonArraySteps(json), slice) as Promise<RunStep[]>;
}

/** Batches as training indices; ids outside the universe become -1 (they contribute nothing). */
export function indexBatches(
  batches: readonly (readonly string[])[],
  index: ReadonlyMap<string, number>,
): number[][] {
  return batches.map((batch) => batch.map((id) => index.get(id) ?? -1));
}

/** `indexBatches` as steps: yields every YIELD_EVERY ids (a batch may hold tens of thousands). */
function* indexBatchesSteps(
  batches: readonly (readonly string[])[],
  index: ReadonlyMap<string, number>,
): Generator<void, number[][], void> {
  const out: number[][] = [];
  for (const batch of batches) {
    const indices = new Array<number>(batch.length);
    for (let k = 0; k < batch.length; k++) {
      if (k % YIELD_EVERY === YIELD_EVERY - 1) yield;
      indices[k] = index.get(batch[k]) ?? -1;
    }
    out.push(indices);
    yield;
  }
  return out;
}

/** `toMathRun` giving the event loop turns. */
export async function toMathRunCooperative(
  stored: StoredRun,
  index: ReadonlyMap<string, number>,
  slice: TimeSlice,
): Promise<Run> {
  const batches = stored.run.steps.map(presentIds);
  return {
    id: stored.id,
    batches: await runCooperatively(indexBatchesSteps(batches, index), slice),
    losses: stored.run.losses,
  };
}

/** Training id → its index in `ids`, built giving the event loop turns. */
export function indexOfIds(
  ids: readonly string[],
  slice: TimeSlice,
): Promise<Map<string, number>> {
  return runCooperatively(
    (function* () {
      const index = new Map<string, number>();
      for (let i = 0; i < ids.length; i++) {
        if (i % YIELD_EVERY === YIELD_EVERY - 1) yield;
        index.set(ids[i], i);
      }
      return index;
    })(),
    slice,
  );
}

/**
 * Every training id that occurs in the study's runs, sorted as `RunStore.trainIdsOfStudy` sorts
 * them (by UTF-16 code units), giving the event loop turns: a study may hold a million ids. Runs
 * in `loaded` are not read again.
 */
export async function studyTrainIds(
  runs: RunStore,
  study: string,
  slice: TimeSlice,
  loaded: readonly StoredRun[] = [],
): Promise<string[]> {
  const ids = new Set<string>();
  const known = new Map(loaded.map((r) => [r.id, r]));
  for (const id of runs.runIdsOfStudy(study)) {
    const { run } = known.get(id) ??
      await runs.load(id, (json) => parseStepsCooperative(json, slice));
    await runCooperatively(
      (function* () {
        for (const step of run.steps) {
          for (let k = 0; k < step.batch.length; k++) {
            if (k % YIELD_EVERY === YIELD_EVERY - 1) yield;
            ids.add(step.batch[k]);
          }
          yield;
        }
      })(),
      slice,
    );
  }
  return await runCooperatively(sortSteps([...ids]), slice);
}

/** Bottom-up merge sort of strings, as steps: sorted blocks, then merges yielding as they go. */
function* sortSteps(items: string[]): Generator<void, string[], void> {
  const BLOCK = 2048;
  let from = items;
  for (let lo = 0; lo < from.length; lo += BLOCK) {
    const block = from.slice(lo, lo + BLOCK).sort();
    for (let k = 0; k < block.length; k++) from[lo + k] = block[k];
    yield;
  }
  let to = new Array<string>(from.length);
  for (let width = BLOCK; width < from.length; width *= 2) {
    for (let lo = 0; lo < from.length; lo += 2 * width) {
      const mid = Math.min(lo + width, from.length);
      const hi = Math.min(lo + 2 * width, from.length);
      let i = lo;
      let j = mid;
      for (let k = lo; k < hi; k++) {
        if (k % YIELD_EVERY === YIELD_EVERY - 1) yield;
        to[k] = j >= hi || (i < mid && from[i] <= from[j]) ? from[i++] : from[j++];
      }
    }
    [from, to] = [to, from];
  }
  return from;
}

export function toMathRun(stored: StoredRun, index: ReadonlyMap<string, number>): Run {
  return {
    id: stored.id,
    batches: indexBatches(stored.run.steps.map(presentIds), index),
    losses: stored.run.losses,
  };
}

/** Mean L_0 per test example over runs (all runs of a study share the test columns' order). */
export function meanInitialLoss(runs: readonly StoredRun[], m: number): Float32Array {
  const mean = new Float32Array(m);
  for (const { run } of runs) for (let j = 0; j < m; j++) mean[j] += run.losses[j] / runs.length;
  return mean;
}
