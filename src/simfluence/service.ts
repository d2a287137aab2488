// What the simulator and simulation routes ask of Simfluence: fitting a simulator as a job,
// deleting, evaluating, ranking influence and simulating. The checks, store writes, GPU choice and
// job wiring live here; failures are DomainErrors (src/errors.ts), which the HTTP layer maps.
import { z } from "@hono/zod-openapi";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { type GpuHandle, usableRuntime } from "../gpu/handle.ts";
import type { JobKind, JobManager } from "../jobs/manager.ts";
import { storedRequest } from "../jobs/resume.ts";
import { listSome } from "../runs/run_input.ts";
import { runIdsInStudy, runInStudy } from "../runs/run_reference.ts";
import { RUNS } from "../runs/run_store.ts";
import type { JobRecord, Store } from "../store/store.ts";
import { evaluateSimulator, type Evaluation, fittingRunsAmong } from "./evaluate.ts";
import { FIT_DEFAULTS, fitJob, type FitJobDeps, type FitJobInput } from "./fit_job.ts";
import { rankInfluence } from "./math/ranking.ts";
import { SIMULATOR_KINDS } from "./math/types.ts";
import {
  collectSimulation,
  planSimulation,
  type SimulationEvent,
  simulationEvents,
  type SimulationRequest,
} from "./simulation.ts";
import type { Simulations, SimulationStatus, SimulationWatch } from "./simulation_registry.ts";
import { loadPairwiseScoreSet, missingPairs, requireCoverage, runTrainIds } from "./score_set.ts";
import { type SimulatorRecord, SIMULATORS } from "./simulator_store.ts";
import { loadStudyRuns } from "./study_runs.ts";

/** What the service works with: the store (runs, simulators), the job manager and the GPU. */
export interface SimfluenceDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

export const RunIdsSchema = z.array(z.string().min(1).max(200)).max(10_000).openapi({
  description: "Runs of the study, each by id or by name (names are unique per study)",
});

export const CreateSimulatorSchema = z.object({
  study: z.string().min(1).max(256),
  kind: z.enum(SIMULATOR_KINDS),
  trainRuns: RunIdsSchema.min(1),
  validationRuns: RunIdsSchema.default([]),
  lambda: z.union([z.number().min(0).max(1e12), z.literal("auto")]).optional().openapi({
    description: "Ridge factor relative to each test example's mean squared design-row norm, " +
      `or "${FIT_DEFAULTS.lambda}" (default) to pick it from 1e-4 … 1e2 by held-out MSE on ` +
      "`validationRuns` (the last 20 % of the fitting runs when none are given). Not for kind " +
      "`scores`.",
  }),
  scores: z.record(z.string().max(256), z.record(z.string().max(256), z.number())).optional()
    .openapi({
      description: "kind `scores` only: I(test, train) from any attribution tool, as " +
        "{test id: {train id: score}}; positive = training on it lowers the test loss. " +
        "Missing pairs count as 0. Give this or `scoreSet`.",
    }),
  scoreSet: z.string().min(1).max(256).optional().openapi({
    description: "kind `scores` only, instead of `scores`: the id of a ready pairwise influence " +
      "score set (POST /v1/influence/scores) whose queries are the study's test examples and " +
      "whose training ids are those of the study's runs, matched by id. Pairs the fitting runs " +
      "need that it lacks (absent ids, or pairs a BM25 filter skipped) are a 400 unless " +
      '`missing` is "zero".',
  }),
  missing: z.enum(["error", "zero"]).optional().openapi({
    description: 'With `scoreSet`: "error" (default) refuses a score set that lacks pairs the ' +
      'fitting runs need; "zero" counts them as 0.',
  }),
}).strict().openapi("CreateSimulator");

export type CreateSimulatorRequest = z.infer<typeof CreateSimulatorSchema>;

/**
 * The request with its fitting runs as ids: each entry names a run of the study by id or name,
 * and no run is listed twice over both lists.
 */
function withFittingRunIds(
  deps: SimfluenceDeps,
  request: CreateSimulatorRequest,
): CreateSimulatorRequest {
  const runs = deps.store.get(RUNS);
  const seen = new Map<string, string>();
  const ids = { trainRuns: [] as string[], validationRuns: [] as string[] };
  for (const field of ["trainRuns", "validationRuns"] as const) {
    request[field].forEach((ref, k) => {
      const id = runInStudy(runs, request.study, ref, `${field}.${k}`).id;
      if (seen.has(id)) {
        throw new InvalidInputError(
          `${field}.${k}: run ${ref} is already listed in ${seen.get(id)}`,
          { field: `${field}.${k}`, run: id },
        );
      }
      seen.set(id, field);
      ids[field].push(id);
    });
  }
  return { ...request, ...ids };
}

/**
 * Kind "scores" takes exactly one of `scores` and `scoreSet` (other kinds neither); inline scores
 * name the study's test examples and are finite.
 */
function checkScores(request: CreateSimulatorRequest, testIds: readonly string[]): void {
  if (request.kind !== "scores") {
    for (const field of ["scores", "scoreSet", "missing"] as const) {
      if (request[field] !== undefined) {
        throw new InvalidInputError(`\`${field}\` is only for kind "scores"`, { field });
      }
    }
    return;
  }
  if (request.scores && request.scoreSet !== undefined) {
    throw new InvalidInputError(
      'kind "scores" takes `scores` or `scoreSet`, not both',
      { field: "scoreSet" },
    );
  }
  if (!request.scores && request.scoreSet === undefined) {
    throw new InvalidInputError('kind "scores" needs `scores` or `scoreSet`', { field: "scores" });
  }
  if (request.missing !== undefined && request.scoreSet === undefined) {
    throw new InvalidInputError("`missing` applies only with `scoreSet`", { field: "missing" });
  }
  if (request.lambda !== undefined) {
    throw new InvalidInputError('kind "scores" fits one scale; `lambda` does not apply', {
      field: "lambda",
    });
  }
  if (!request.scores) return;
  const known = new Set(testIds);
  const unknown = Object.keys(request.scores).filter((t) => !known.has(t));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      `scores name test examples outside the study: ${unknown.slice(0, 5).join(", ")}`,
      { field: "scores", unknown: listSome(unknown) },
    );
  }
  for (const [test, row] of Object.entries(request.scores)) {
    for (const [train, v] of Object.entries(row)) {
      if (!Number.isFinite(v)) {
        throw new InvalidInputError(`scores.${test}.${train} must be finite`, {
          field: `scores.${test}.${train}`,
        });
      }
    }
  }
}

/**
 * A `scoreSet` read against the study: every test example × every training id of the fitting
 * runs must be scored unless `missing` is "zero" (then they count as 0, and are counted).
 */
async function resolveScoreSet(
  deps: Pick<SimfluenceDeps, "store">,
  request: CreateSimulatorRequest,
  testIds: readonly string[],
): Promise<FitJobDeps["scoreSet"]> {
  if (request.kind !== "scores" || request.scoreSet === undefined) return undefined;
  const set = await loadPairwiseScoreSet(deps.store, request.scoreSet, "scoreSet");
  const runs = deps.store.get(RUNS);
  const fitting = [
    ...await loadStudyRuns(runs, request.study, request.trainRuns, "trainRuns"),
    ...await loadStudyRuns(runs, request.study, request.validationRuns, "validationRuns"),
  ];
  const needed = runTrainIds(fitting);
  if ((request.missing ?? "error") === "error") {
    requireCoverage(set, testIds, needed, "scoreSet", ', or send "missing": "zero"');
    return { set, zeroFilledPairs: 0 };
  }
  return { set, zeroFilledPairs: missingPairs(set, testIds, needed).total };
}

/**
 * Checks the request, records the simulator as fitting and queues its fit (on the GPU when there
 * is one). The simulator is marked cancelled or failed when its job ends so without running.
 */
export async function startFit(
  deps: SimfluenceDeps,
  request: CreateSimulatorRequest,
): Promise<{ simulator: SimulatorRecord; job: JobRecord }> {
  const runs = deps.store.get(RUNS);
  const simulators = deps.store.get(SIMULATORS);
  const testIds = runs.studyTestExamples(request.study);
  if (!testIds) throw new NotFoundError(`study "${request.study}"`, { field: "study" });
  request = withFittingRunIds(deps, request);
  checkScores(request, testIds);
  // Checked here so that a bad score set is a 400; the job reads it again where it runs.
  await resolveScoreSet(deps, request, testIds);
  const record = simulators.create({
    study: request.study,
    kind: request.kind,
    trainRuns: request.trainRuns,
    validationRuns: request.validationRuns,
    lambda: request.kind === "scores" ? null : request.lambda ?? FIT_DEFAULTS.lambda,
  });
  const input: FitJobInput = {
    simulator: record.id,
    study: request.study,
    kind: request.kind,
    trainRuns: request.trainRuns,
    validationRuns: request.validationRuns,
    lambda: record.lambda,
    request,
  };
  const job = deps.jobs.submit("simulator-fit", input);
  simulators.setJob(record.id, job.id);
  // A job cancelled (or shut down) while still queued never runs its handler, which would
  // otherwise mark the simulator; markFinished leaves a simulator that is no longer fitting.
  deps.jobs.subscribe(job.id, (event) => {
    if (event.type === "cancelled") simulators.markFinished(record.id, "cancelled", null);
    if (event.type === "failed") simulators.markFinished(record.id, "failed", event.job.error);
  }, false);
  return { simulator: simulators.get(record.id)!, job };
}

/**
 * The simulator-fit job kind: any node fits from the stored (id-resolved) request. It runs on the
 * CPU where no GPU is (the fit picks the GPU when this node has one). The simulator row, created
 * with the request, is its one output: a fit of a simulator already ready returns it as stored
 * instead of storing it again, and markReady flips only a simulator still fitting.
 */
export function simulatorFitKind(
  deps: Pick<SimfluenceDeps, "store" | "gpu">,
): JobKind<FitJobInput> {
  return {
    needs: "cpu",
    build: async (record) => {
      const input = record.input;
      const simulators = deps.store.get(SIMULATORS);
      const stored = simulators.get(input.simulator);
      if (stored?.status === "ready") {
        return () => Promise.resolve({ simulator: stored.id, ...stored.fit });
      }
      try {
        const request = storedRequest(record, CreateSimulatorSchema);
        const testIds = deps.store.get(RUNS).studyTestExamples(request.study) ?? [];
        return fitJob({
          runs: deps.store.get(RUNS),
          simulators,
          runtime: usableRuntime(deps.gpu),
          scores: request.scores,
          scoreSet: await resolveScoreSet(deps, request, testIds),
        });
      } catch (e) {
        // The fit never starts: its simulator is not left fitting (on whichever node built it).
        simulators.markFinished(
          input.simulator,
          "failed",
          e instanceof Error ? e.message : String(e),
        );
        throw e;
      }
    },
  };
}

/** Deletes a simulator, cancelling its fit first if it is still running; NotFoundError if none. */
export async function deleteSimulator(deps: SimfluenceDeps, id: string): Promise<void> {
  const simulators = deps.store.get(SIMULATORS);
  const record = simulators.require(id);
  if (record.status === "fitting" && record.jobId) {
    try {
      deps.jobs.cancel(record.jobId);
    } catch {
      // Already finished: nothing to cancel.
    }
  }
  await simulators.delete(id);
}

export interface EvaluateRequest {
  runs: string[];
  /** Allow runs the simulator was fitted on (their metrics flatter it). */
  allowFittingRuns: boolean;
}

/** Metrics on held-out runs, stored with the simulator; fitting runs as fittingRunsAmong says. */
export async function evaluateOnRuns(
  deps: SimfluenceDeps,
  id: string,
  request: EvaluateRequest,
): Promise<Evaluation> {
  const runs = deps.store.get(RUNS);
  const simulators = deps.store.get(SIMULATORS);
  const record = simulators.require(id);
  const testIds = runs.studyTestExamples(record.study) ?? [];
  const sim = await simulators.load(id, testIds);
  const ids = runIdsInStudy(runs, record.study, request.runs, "runs");
  const fittingRuns = fittingRunsAmong(record, ids, request.allowFittingRuns);
  const stored = await loadStudyRuns(runs, record.study, ids, "runs");
  const evaluation = await evaluateSimulator(usableRuntime(deps.gpu), sim, stored, fittingRuns);
  simulators.setEvaluation(id, evaluation);
  return evaluation;
}

export interface NamedInfluence {
  trainExample: string;
  A: number;
  B: number;
  net: number;
}

export interface InfluenceReport {
  test: string;
  typicalLoss: number;
  helpful: NamedInfluence[];
  harmful: NamedInfluence[];
  unseenTrainExamples: number;
}

/** The `top` most helpful and harmful training examples for one test example. */
export async function simulatorInfluence(
  deps: SimfluenceDeps,
  id: string,
  request: { test: string; top: number },
): Promise<InfluenceReport> {
  const { test, top } = request;
  const simulators = deps.store.get(SIMULATORS);
  const record = simulators.require(id);
  const testIds = deps.store.get(RUNS).studyTestExamples(record.study) ?? [];
  const z = testIds.indexOf(test);
  if (z < 0) throw new InvalidInputError(`unknown test example "${test}"`, { field: "test" });
  const sim = await simulators.load(id, testIds);
  const ranking = rankInfluence(sim.params, z, { topK: top });
  const named = (entries: typeof ranking.helpful) =>
    entries.map((e) => ({ trainExample: sim.trainIds[e.index], A: e.A, B: e.B, net: e.net }));
  return {
    test,
    typicalLoss: ranking.typicalLoss,
    helpful: named(ranking.helpful),
    harmful: named(ranking.harmful),
    unseenTrainExamples: ranking.unseen,
  };
}

/** A checked simulation, ready to compute on the GPU when there is one (else on the CPU). */
export interface PreparedSimulation {
  /** Every trajectory at once. */
  collect(): ReturnType<typeof collectSimulation>;
  /** The events a chunk at a time; stops (throwing) when `signal` aborts. */
  events(signal: AbortSignal): AsyncGenerator<SimulationEvent[]>;
}

/** Checks a simulation request against the simulator (ready, known ids) before any work. */
export async function prepareSimulation(
  deps: SimfluenceDeps,
  simulatorId: string,
  request: SimulationRequest,
): Promise<PreparedSimulation> {
  const plan = await planSimulation(
    { runs: deps.store.get(RUNS), simulators: deps.store.get(SIMULATORS) },
    simulatorId,
    request,
  );
  const runtime = usableRuntime(deps.gpu);
  return {
    collect: () => collectSimulation(runtime, plan),
    events: (signal) => simulationEvents(runtime, plan, signal),
  };
}

/** Starts a simulation in `registry` for GET …/events watchers; its id. */
export async function startSimulation(
  deps: SimfluenceDeps,
  registry: Simulations,
  simulatorId: string,
  request: SimulationRequest,
): Promise<{ id: string }> {
  const plan = await planSimulation(
    { runs: deps.store.get(RUNS), simulators: deps.store.get(SIMULATORS) },
    simulatorId,
    request,
  );
  return registry.start(usableRuntime(deps.gpu), plan);
}

/** A started simulation's status; NotFoundError once it is unknown (or expired). */
export function simulationStatus(
  registry: Simulations,
  id: string,
): SimulationStatus {
  const found = registry.status(id);
  if (!found) throw new NotFoundError(`simulation ${id}`, { field: "id" });
  return found;
}

/**
 * A watcher's view of a simulation's event log (close it when the watcher leaves). NotFoundError
 * once it is unknown (or expired).
 */
export function watchSimulation(registry: Simulations, id: string): SimulationWatch {
  const watch = registry.watch(id);
  if (!watch) throw new NotFoundError(`simulation ${id}`, { field: "id" });
  return watch;
}
