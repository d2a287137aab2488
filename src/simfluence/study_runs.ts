// Stored runs in the index form the Simfluence math works on, against one training universe.
import { InvalidInputError } from "../errors.ts";
import type { RunStore, StoredRun } from "../runs/run_store.ts";
import type { Run } from "./math/types.ts";

/** Loads runs by id, checking that each exists and belongs to `study`; errors name `field[k]`. */
export async function loadStudyRuns(
  runs: RunStore,
  study: string,
  ids: readonly string[],
  field: string,
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
    loaded.push(await runs.load(id));
  }
  return loaded;
}

/** Batches as training indices; ids outside the universe become -1 (they contribute nothing). */
export function indexBatches(
  batches: readonly (readonly string[])[],
  index: ReadonlyMap<string, number>,
): number[][] {
  return batches.map((batch) => batch.map((id) => index.get(id) ?? -1));
}

export function toMathRun(stored: StoredRun, index: ReadonlyMap<string, number>): Run {
  return {
    id: stored.id,
    batches: indexBatches(stored.run.steps.map((s) => s.batch), index),
    losses: stored.run.losses,
  };
}

/** Mean L_0 per test example over runs (all runs of a study share the test columns' order). */
export function meanInitialLoss(runs: readonly StoredRun[], m: number): Float32Array {
  const mean = new Float32Array(m);
  for (const { run } of runs) for (let j = 0; j < m; j++) mean[j] += run.losses[j] / runs.length;
  return mean;
}
