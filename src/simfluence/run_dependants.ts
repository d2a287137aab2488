// Deleting a run that simulators were fitted on: they would go on listing it and `fromRun` it, so
// the delete is a 409 naming them unless forced, and a forced delete marks them (`deletedRuns`).
import { ConflictError, NotFoundError } from "../errors.ts";
import { RUNS } from "../runs/run_store.ts";
import { deleteRun } from "../runs/service.ts";
import type { Store } from "../store/store.ts";
import { SIMULATORS } from "./simulator_store.ts";

export async function deleteRunWithDependants(
  store: Store,
  id: string,
  options: { force: boolean },
): Promise<void> {
  if (!store.get(RUNS).get(id)) throw new NotFoundError(`run ${id}`, { field: "id", id });
  const simulators = store.get(SIMULATORS);
  const dependants = simulators.usingRun(id);
  if (dependants.length > 0 && !options.force) {
    throw new ConflictError(
      `run ${id} is a fitting run of ${dependants.length} simulator(s); delete them first, or ` +
        "send ?force=true to delete the run anyway and mark them",
      {
        field: "id",
        dependants: dependants.map((s) => ({ kind: "simulator", id: s.id, status: s.status })),
      },
      "in_use",
    );
  }
  await deleteRun(store, id);
  for (const simulator of dependants) simulators.markRunDeleted(simulator.id, id);
}
