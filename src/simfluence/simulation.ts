// One simulation: a resolved plan (simulator, curriculum, test examples, initial losses) and the
// events that stream it — `meta`, then one `step` event per step (computed and sent in chunks of
// k steps), then `done`. The rollout runs on the GPU when there is one, else on the CPU, in chunks
// either way.
import { presentIds } from "../runs/run_input.ts";
import { z } from "@hono/zod-openapi";
import { InvalidInputError } from "../errors.ts";
import { float32Decimal, float32Decimals } from "../float32.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { runInStudy } from "../runs/run_reference.ts";
import type { RunStore } from "../runs/run_store.ts";
import { listSome } from "../runs/run_input.ts";
import { simulateStream } from "./math/kernels/simulate.ts";
import { simulateCpuStream } from "./math/reference/simulate.ts";
import { CurriculumRequestSchema, resolveCurriculum } from "./curriculum_request.ts";
import type { LoadedSimulator, SimulatorStore } from "./simulator_store.ts";
import { indexBatches } from "./study_runs.ts";

// Unregistered, so that POST /v1/simulations can extend it into one closed object: extending a
// registered schema documents an `allOf` of two closed objects, which no request satisfies.
const SimulationRequestFields = CurriculumRequestSchema.extend({
  tests: z.array(z.string().max(256)).min(1).optional().openapi({
    description: "Test examples to simulate (default: all of the study's)",
  }),
  initialLosses: z.record(z.string().max(256), z.number().min(0)).optional().openapi({
    description: "L_0 per test example; default the mean L_0 of the simulator's fitting runs",
  }),
  chunkSteps: z.number().int().min(1).max(4096).optional().openapi({
    description: "Steps computed and sent together (default: about 1/50 of the curriculum)",
  }),
}).strict();

export const SimulationRequestSchema = SimulationRequestFields.openapi("SimulationRequest");

/** POST /v1/simulations: the same request naming its simulator. */
export const SimulationStartRequestSchema = SimulationRequestFields.extend({
  simulator: z.string().min(1).max(200).openapi({ description: "The simulator's id" }),
}).strict().openapi("SimulationStartRequest");

export type SimulationRequest = z.infer<typeof SimulationRequestSchema>;

export interface SimulationPlan {
  sim: LoadedSimulator;
  batches: number[][];
  /** Test indices into the simulator's columns, in the order the client asked for. */
  tests: number[];
  initial: Float32Array;
  chunkSteps: number;
}

export interface SimulationEvent {
  event: "meta" | "step" | "done";
  data: unknown;
}

/** Ids listed more than once, each once, in order of first repeat. */
function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const id of ids) (seen.has(id) ? repeated : seen).add(id);
  return [...repeated];
}

function testIndices(sim: LoadedSimulator, tests: string[] | undefined): number[] {
  if (!tests) return sim.testIds.map((_, j) => j);
  // Each id names one trajectory (a JSON key, an event column): a repeat would merge two.
  const repeated = duplicates(tests);
  if (repeated.length > 0) {
    throw new InvalidInputError(
      `tests: duplicate test example ids: ${repeated.slice(0, 5).join(", ")}`,
      {
        field: "tests",
        duplicates: listSome(repeated),
      },
    );
  }
  const index = new Map(sim.testIds.map((id, j) => [id, j]));
  const unknown = tests.filter((id) => !index.has(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(`unknown test example ids: ${unknown.slice(0, 5).join(", ")}`, {
      field: "tests",
      unknown: listSome(unknown),
    });
  }
  return tests.map((id) => index.get(id)!);
}

export async function planSimulation(
  deps: { runs: RunStore; simulators: SimulatorStore },
  simulatorId: string,
  request: SimulationRequest,
): Promise<SimulationPlan> {
  const record = deps.simulators.require(simulatorId);
  const testIds = deps.runs.studyTestExamples(record.study) ?? [];
  const sim = await deps.simulators.load(simulatorId, testIds);
  const known = new Set(sim.trainIds);
  const curriculum = await resolveCurriculum(request, known, async (id) => {
    const stored = runInStudy(deps.runs, record.study, id, "fromRun");
    return (await deps.runs.load(stored.id)).run.steps.map(presentIds);
  });
  const tests = testIndices(sim, request.tests);
  const initial = Float32Array.from(tests, (z) => sim.initialLoss[z]);
  const position = new Map(tests.map((z, j) => [sim.testIds[z], j]));
  for (const [id, value] of Object.entries(request.initialLosses ?? {})) {
    const j = position.get(id);
    if (j === undefined) {
      throw new InvalidInputError(`initialLosses: "${id}" is not a simulated test example`, {
        field: `initialLosses.${id}`,
      });
    }
    initial[j] = value;
  }
  const index = new Map(sim.trainIds.map((id, i) => [id, i]));
  const steps = curriculum.length;
  return {
    sim,
    batches: indexBatches(curriculum, index),
    tests,
    initial,
    chunkSteps: request.chunkSteps ?? Math.min(256, Math.max(1, Math.ceil(steps / 50))),
  };
}

function rows(losses: Float32Array, s: number, tStart: number, count: number): SimulationEvent[] {
  return Array.from({ length: count }, (_, k) => ({
    event: "step" as const,
    data: { t: tStart + k, losses: float32Decimals(losses.subarray(k * s, (k + 1) * s)) },
  }));
}

/** Yields the simulation's events a chunk at a time; stops (throwing) when `signal` aborts. */
export async function* simulationEvents(
  rt: GpuRuntime | null,
  plan: SimulationPlan,
  signal?: AbortSignal,
  options: { rampUp?: boolean } = {},
): AsyncGenerator<SimulationEvent[]> {
  const started = performance.now();
  const s = plan.tests.length;
  const T = plan.batches.length;
  const testIds = plan.tests.map((z) => plan.sim.testIds[z]);
  yield [{
    event: "meta",
    data: {
      simulator: plan.sim.record.id,
      kind: plan.sim.record.kind,
      tests: testIds,
      steps: T,
      chunkSteps: plan.chunkSteps,
      initialLosses: float32Decimals(plan.initial),
    },
  }];
  const request = { batches: plan.batches, initialLosses: plan.initial, tests: plan.tests };
  const rollout = { chunkSteps: plan.chunkSteps, rampUp: options.rampUp ?? true, signal };
  // Either way each chunk is computed only when asked for, so a consumer that stops (a
  // disconnected client) stops the computation.
  const chunks = rt
    ? simulateStream(rt, plan.sim.params, request, rollout)
    : simulateCpuStream(plan.sim.params, request, rollout);
  let last = plan.initial;
  for await (const chunk of chunks) {
    const count = chunk.tEnd - chunk.tStart + 1;
    last = chunk.losses.slice((count - 1) * s, count * s);
    yield rows(chunk.losses, s, chunk.tStart, count);
  }
  yield [{
    event: "done",
    data: {
      steps: T,
      finalLosses: Object.fromEntries(testIds.map((id, j) => [id, float32Decimal(last[j])])),
      elapsedMs: performance.now() - started,
    },
  }];
}

/** The whole simulation as JSON: test id → losses L_0 … L_T. */
export async function collectSimulation(
  rt: GpuRuntime | null,
  plan: SimulationPlan,
): Promise<{ tests: string[]; steps: number; trajectories: Record<string, number[]> }> {
  const testIds = plan.tests.map((z) => plan.sim.testIds[z]);
  const trajectories: Record<string, number[]> = Object.fromEntries(
    testIds.map((id, j) => [id, [float32Decimal(plan.initial[j])]]),
  );
  // Nobody watches the steps arrive: one chunk, one readback.
  const whole = { ...plan, chunkSteps: Math.max(1, plan.batches.length) };
  for await (const events of simulationEvents(rt, whole, undefined, { rampUp: false })) {
    for (const e of events) {
      if (e.event !== "step") continue;
      (e.data as { losses: number[] }).losses.forEach((v, j) => trajectories[testIds[j]].push(v));
    }
  }
  return { tests: testIds, steps: plan.batches.length, trajectories };
}
