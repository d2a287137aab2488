// Normalises batches (index lists with repeats, or indices with counts) into a CSR curriculum and
// checks runs against their study universe.
import type { Batch, Curriculum, Run } from "./types.ts";
import { DomainError } from "../../errors.ts";
import { runCooperatively, runToEnd, type TimeSlice, YIELD_EVERY } from "./time_slice.ts";

export class SimfluenceInputError extends DomainError {
  override name = "SimfluenceInputError";
  declare readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("invalid", "invalid_simfluence_input", message, details);
  }
}

/** A batch's indices and their counts (null: each counts once). */
function batchEntries(batch: Batch, step: number): [readonly number[], readonly number[] | null] {
  if (Array.isArray(batch)) return [batch as number[], null];
  const b = batch as { indices: readonly number[]; counts: readonly number[] };
  if (!b || !Array.isArray(b.indices) || !Array.isArray(b.counts)) {
    throw new SimfluenceInputError(`batch ${step} is neither an index list nor {indices, counts}`);
  }
  if (b.indices.length !== b.counts.length) {
    throw new SimfluenceInputError(`batch ${step}: indices and counts differ in length`, { step });
  }
  return [b.indices, b.counts];
}

/**
 * Builds the CSR form. Repeated indices within a step are merged into counts. With
 * `allowUnknown`, index -1 (an id outside the study) is kept and contributes nothing downstream;
 * otherwise every index must lie in [0, n).
 */
export function toCurriculum(
  batches: readonly Batch[],
  n: number,
  allowUnknown = false,
): Curriculum {
  return runToEnd(curriculumSteps(batches, n, allowUnknown));
}

/** `toCurriculum` giving the event loop turns: batches may hold a study's worth of ids. */
export function toCurriculumCooperative(
  batches: readonly Batch[],
  n: number,
  allowUnknown: boolean,
  slice: TimeSlice,
): Promise<Curriculum> {
  return runCooperatively(curriculumSteps(batches, n, allowUnknown), slice);
}

/** `toCurriculum` as steps: yields every YIELD_EVERY entries. */
export function* curriculumSteps(
  batches: readonly Batch[],
  n: number,
  allowUnknown = false,
): Generator<void, Curriculum, void> {
  const stepPtr = new Uint32Array(batches.length + 1);
  const entries = batches.map((batch, step) => batchEntries(batch, step));
  const total = entries.reduce((sum, [idx]) => sum + idx.length, 0);
  const indices = new Int32Array(total);
  const counts = new Uint32Array(total);
  // Where index i sits in the current step (slot[i + 1], -1 when absent; i = -1 is an unknown
  // id): repeats within a step merge into one entry, in order of first occurrence.
  const slot = new Int32Array(n + 1).fill(-1);
  let e = 0;
  for (const [step, [idx, cnt]] of entries.entries()) {
    const start = e;
    for (let k = 0; k < idx.length; k++) {
      if (k % YIELD_EVERY === YIELD_EVERY - 1) yield;
      const i = idx[k];
      const c = cnt === null ? 1 : cnt[k];
      if (!Number.isInteger(c) || c < 0) {
        throw new SimfluenceInputError(`batch ${step}: count ${c} is not a non-negative integer`, {
          step,
        });
      }
      const unknown = i === -1 && allowUnknown;
      if (!unknown && !(Number.isInteger(i) && i >= 0 && i < n)) {
        throw new SimfluenceInputError(`batch ${step}: training index ${i} is outside [0, ${n})`, {
          step,
          index: i,
        });
      }
      if (c === 0) continue;
      const at = slot[i + 1];
      if (at >= 0) counts[at] += c;
      else {
        slot[i + 1] = e;
        indices[e] = i;
        counts[e++] = c;
      }
    }
    for (let k = start; k < e; k++) slot[indices[k] + 1] = -1;
    stepPtr[step + 1] = e;
    yield;
  }
  return {
    steps: batches.length,
    stepPtr,
    indices: indices.slice(0, e),
    counts: counts.slice(0, e),
  };
}

/** Number of steps T of a run, after checking its losses have (T+1) x m entries. */
export function checkRun(run: Run, m: number, which: string): number {
  const steps = run.batches.length;
  if (steps < 1) throw new SimfluenceInputError(`${which} has no steps`);
  if (run.losses.length !== (steps + 1) * m) {
    throw new SimfluenceInputError(
      `${which}: losses hold ${run.losses.length} values, expected (T+1) x m = ${(steps + 1) * m}`,
      { steps, m },
    );
  }
  for (let k = 0; k < run.losses.length; k++) {
    if (!Number.isFinite(run.losses[k])) {
      throw new SimfluenceInputError(`${which}: loss value ${k} is not finite`);
    }
  }
  return steps;
}
