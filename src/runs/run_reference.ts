// A run named in a request where its study is known: by id, or by name (names are unique per
// study), as users expect after naming their runs. The id wins when a value is both.
import { InvalidInputError } from "../errors.ts";
import type { RunRecord, RunStore } from "./run_store.ts";

/** The run of `study` whose id or name is `ref`; a 400 naming `field` when there is none. */
export function runInStudy(runs: RunStore, study: string, ref: string, field: string): RunRecord {
  const byId = runs.get(ref);
  if (byId?.study === study) return byId;
  const byName = runs.byName(study, ref);
  if (byName) return byName;
  if (byId) {
    throw new InvalidInputError(
      `${field}: run ${ref} belongs to study "${byId.study}", not "${study}"`,
      { field, run: ref },
    );
  }
  throw new InvalidInputError(
    `${field}: study "${study}" has no run with id or name "${ref}"`,
    { field, run: ref },
  );
}

/** The ids of the runs `refs` name in `study`, each checked as runInStudy does. */
export function runIdsInStudy(
  runs: RunStore,
  study: string,
  refs: readonly string[],
  field: string,
): string[] {
  return refs.map((ref, k) => runInStudy(runs, study, ref, `${field}.${k}`).id);
}
