// Studies: the runs sharing one set of test examples (the `study` of each run) and the simulators
// fitted and evaluations kept on them. Listing reads the runs module's studies table; deleting one
// removes its runs, their checkpoints, its simulators and its evaluations in one transaction, and
// their files after it commits.
import { NotFoundError } from "../errors.ts";
import { EVALUATIONS } from "../evaluations/store.ts";
import type { JobManager } from "../jobs/manager.ts";
import { RUNS, type StudySummary } from "../runs/run_store.ts";
import { SIMULATORS } from "../simfluence/simulator_store.ts";
import type { Store } from "../store/store.ts";

export interface StudyDeps {
  store: Store;
  jobs: JobManager;
}

export function listStudies(
  store: Store,
  page: { limit: number; offset: number },
): { studies: StudySummary[]; total: number; limit: number; offset: number } {
  return { ...store.get(RUNS).listStudies(page), ...page };
}

/** 404 when there is no such study. */
export function getStudy(store: Store, name: string): StudySummary {
  const study = store.get(RUNS).study(name);
  if (!study) throw new NotFoundError(`study ${name}`, { field: "name", name });
  return study;
}

export interface DeletedStudy {
  study: string;
  runs: number;
  simulators: number;
  files: number;
}

/** Cancels a job that may have finished meanwhile. */
function cancelIfRunning(jobs: JobManager, job: string): void {
  try {
    jobs.cancel(job);
  } catch {
    // Already finished: nothing to cancel.
  }
}

/** Deletes a study with everything in it; fits and evaluations still running are cancelled first. */
export async function deleteStudy(deps: StudyDeps, name: string): Promise<DeletedStudy> {
  const study = getStudy(deps.store, name);
  const simulators = deps.store.get(SIMULATORS);
  const evaluations = deps.store.get(EVALUATIONS);
  // Every simulator of the study (a bound, not -1: PostgreSQL has no negative LIMIT).
  const { simulators: fitted } = simulators.list({
    study: name,
    limit: Number.MAX_SAFE_INTEGER,
    offset: 0,
  });
  for (const simulator of fitted) {
    if (simulator.status === "fitting" && simulator.jobId) {
      cancelIfRunning(deps.jobs, simulator.jobId);
    }
  }
  for (const job of evaluations.runningJobsOfStudy(name)) cancelIfRunning(deps.jobs, job);
  const deleted = await deps.store.get(RUNS).deleteStudy(name, () => {
    evaluations.deleteRowsOfStudy(name);
    return simulators.deleteRowsOfStudy(name);
  });
  if (!deleted) throw new NotFoundError(`study ${name}`, { field: "name", name });
  return { study: name, runs: deleted.runs, simulators: study.simulators, files: deleted.files };
}
