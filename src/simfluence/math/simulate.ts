// Autoregressive Simfluence rollout (MATH.md §2, "Simulation"):
//   L̂_t = α_t L̂_{t-1} + β_t,  α_t = 1 + Σ_{i∈c_t} A_i,  β_t = Σ_{i∈c_t} B_i,
// from given initial losses, for any curriculum, on the simulator's own predictions. Ids outside
// the study (index -1) and unseen ids (A = B = 0) contribute nothing.
//
// Both paths stream trajectories in chunks of steps so a caller can stop early (AbortSignal); the
// one-shot CPU rollout is the reference.
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { SimfluenceInputError, toCurriculum } from "./curriculum.ts";
import { paddedTests, SIMFLUENCE_WG, u32Buffer } from "./gpu_layout.ts";
import { TimeSlice } from "./time_slice.ts";
import type { Batch, Curriculum, SimulatorParams } from "./types.ts";

export interface SimulationRequest {
  /** The curriculum; index -1 marks an id outside the study. */
  batches: readonly Batch[];
  /** L_0 of each simulated test example, in the order of `tests`. */
  initialLosses: ArrayLike<number>;
  /** Test indices to simulate (default: all m, in order). */
  tests?: readonly number[];
}

export interface SimulationChunk {
  /** Steps covered: losses after steps tStart .. tEnd (1-based, inclusive). */
  tStart: number;
  tEnd: number;
  /** (tEnd - tStart + 1) x s, row-major over the simulated test examples. */
  losses: Float32Array;
}

function selectedTests(sim: SimulatorParams, tests?: readonly number[]): number[] {
  const zs = tests ? [...tests] : Array.from({ length: sim.m }, (_, z) => z);
  for (const z of zs) {
    if (!Number.isInteger(z) || z < 0 || z >= sim.m) {
      throw new SimfluenceInputError(`test index ${z} is outside [0, ${sim.m})`, { test: z });
    }
  }
  return zs;
}

function checkInitial(initial: ArrayLike<number>, s: number): void {
  if (initial.length !== s) {
    throw new SimfluenceInputError(`initialLosses holds ${initial.length} values, expected ${s}`);
  }
  for (let j = 0; j < s; j++) {
    if (!Number.isFinite(initial[j])) {
      throw new SimfluenceInputError(`initial loss ${j} is not finite`);
    }
  }
}

/** CPU reference: (T+1) x s trajectory, row 0 = the initial losses. */
export function simulateCpu(sim: SimulatorParams, request: SimulationRequest): Float32Array {
  const zs = selectedTests(sim, request.tests);
  const s = zs.length;
  checkInitial(request.initialLosses, s);
  const cur = toCurriculum(request.batches, sim.n, true);
  return rolloutCpu(sim, cur, request.initialLosses, zs);
}

export function rolloutCpu(
  sim: Pick<SimulatorParams, "n" | "m" | "A" | "B">,
  cur: Curriculum,
  initial: ArrayLike<number>,
  zs: readonly number[],
): Float32Array {
  const s = zs.length;
  const out = new Float32Array((cur.steps + 1) * s);
  const state = new CpuRollout(sim, cur, initial, zs);
  out.set(state.l, 0);
  for (let t = 0; t < cur.steps; t++) {
    state.step(t);
    out.set(state.l, (t + 1) * s);
  }
  return out;
}

/** The float64 state of a CPU rollout, advanced one step at a time. */
class CpuRollout {
  /** L̂ after the last step taken, one value per simulated test example. */
  readonly l: Float64Array;
  private readonly a: Float64Array;
  private readonly b: Float64Array;

  constructor(
    private readonly sim: Pick<SimulatorParams, "n" | "m" | "A" | "B">,
    private readonly cur: Curriculum,
    initial: ArrayLike<number>,
    private readonly zs: readonly number[],
  ) {
    const s = zs.length;
    this.l = Float64Array.from({ length: s }, (_, j) => initial[j]);
    this.a = new Float64Array(s);
    this.b = new Float64Array(s);
  }

  /** Applies step t (0-based: the batch c_{t+1}). */
  step(t: number): void {
    const { sim, cur, zs, l, a, b } = this;
    const { m } = sim;
    const s = zs.length;
    a.fill(0);
    b.fill(0);
    for (let e = cur.stepPtr[t]; e < cur.stepPtr[t + 1]; e++) {
      const i = cur.indices[e];
      if (i < 0 || i >= sim.n) continue;
      const c = cur.counts[e];
      for (let j = 0; j < s; j++) {
        a[j] += c * sim.A[i * m + zs[j]];
        b[j] += c * sim.B[i * m + zs[j]];
      }
    }
    for (let j = 0; j < s; j++) l[j] = (1 + a[j]) * l[j] + b[j];
  }
}

/**
 * Streams a simulation on the CPU in chunks like `simulateStream` (same chunking and ramp-up),
 * with the numbers of `simulateCpu`. Each chunk is computed only when the consumer asks for it,
 * the event loop gets a turn every few milliseconds of work, and aborting the signal stops the
 * computation (throwing the signal's reason).
 */
export async function* simulateCpuStream(
  sim: SimulatorParams,
  request: SimulationRequest,
  options: RolloutOptions = {},
): AsyncGenerator<SimulationChunk> {
  const zs = selectedTests(sim, request.tests);
  const s = zs.length;
  checkInitial(request.initialLosses, s);
  const cur = toCurriculum(request.batches, sim.n, true);
  const state = new CpuRollout(sim, cur, request.initialLosses, zs);
  const slice = new TimeSlice(options.signal);
  const k = Math.max(1, Math.floor(options.chunkSteps ?? 32));
  let size = options.rampUp ? 1 : k;
  for (let t0 = 0; t0 < cur.steps; t0 += size, size = Math.min(k, size * 2)) {
    const count = Math.min(size, cur.steps - t0);
    const losses = new Float32Array(count * s);
    for (let t = 0; t < count; t++) {
      // A single chunk may be the whole curriculum (JSON answers): turns come inside it too.
      if (slice.due) await slice.yield();
      state.step(t0 + t);
      losses.set(state.l, t * s);
    }
    yield { tStart: t0 + 1, tEnd: t0 + count, losses };
    await slice.maybeYield();
  }
}

/** One run of a batched GPU rollout. */
export interface RolloutRun {
  curriculum: Curriculum;
  /** L_0 for the s simulated test examples. */
  initial: ArrayLike<number>;
}

export interface RolloutOptions {
  /** Steps per dispatch and per yielded chunk (default 32). */
  chunkSteps?: number;
  /**
   * Start with one-step chunks and double up to `chunkSteps`, so a streaming client sees its first
   * steps at once while long curricula still need few readbacks.
   */
  rampUp?: boolean;
  signal?: AbortSignal;
}

/**
 * GPU rollout of several runs at once, from θ already on the GPU as [2, n, sP] (block 0 = A,
 * block 1 = B, test examples fastest, sP = paddedTests(s)). Yields, per chunk of steps, each run's
 * losses after those steps (runs that ended contribute empty arrays). Stops with the signal's
 * reason when it aborts; GPU buffers are released however the iteration ends.
 */
export async function* rolloutGpu(
  rt: GpuRuntime,
  theta: Tensor,
  n: number,
  s: number,
  runs: readonly RolloutRun[],
  options: RolloutOptions = {},
): AsyncGenerator<{ tStart: number; tEnd: number; losses: Float32Array[] }> {
  const sP = paddedTests(s);
  const s4 = sP / 4;
  if (theta.size !== 2 * n * sP) throw new RangeError(`theta must be [2, ${n}, ${sP}]`);
  const chunk = Math.max(1, Math.floor(options.chunkSteps ?? 32));
  const signal = options.signal;
  signal?.throwIfAborted();
  const R = runs.length;
  const totalSteps = runs.reduce((acc, r) => acc + r.curriculum.steps, 0);
  const totalEntries = runs.reduce((acc, r) => acc + r.curriculum.indices.length, 0);
  const stepsBase = 2 * R;
  const entryBase = stepsBase + totalSteps + 1;
  const plan = new Uint32Array(entryBase + 2 * totalEntries);
  let stepAt = 0;
  let entryAt = 0;
  runs.forEach((run, k) => {
    const c = run.curriculum;
    plan[k] = stepAt;
    plan[R + k] = c.steps;
    for (let t = 0; t < c.steps; t++) {
      for (let e = c.stepPtr[t]; e < c.stepPtr[t + 1]; e++) {
        const i = c.indices[e];
        plan[entryBase + 2 * entryAt] = i >= 0 && i < n ? i : 0xffffffff;
        plan[entryBase + 2 * entryAt + 1] = c.counts[e];
        entryAt++;
      }
      plan[stepsBase + stepAt + 1] = entryAt;
      stepAt++;
    }
  });
  const maxSteps = runs.reduce((acc, r) => Math.max(acc, r.curriculum.steps), 0);
  const k = Math.min(chunk, Math.max(maxSteps, 1));
  const init = new Float32Array(R * sP);
  runs.forEach((run, r) => {
    for (let j = 0; j < s; j++) init[r * sP + j] = run.initial[j];
  });
  const planBuffer = u32Buffer(rt, plan);
  const state = rt.tensor(init, [R, sP]);
  const out = rt.zeros([R, k, sP]);
  try {
    const key = { shader: "simfluence_simulate", defines: { WG: SIMFLUENCE_WG } };
    const pipeline = await rt.pipelines.get(key);
    let size = options.rampUp ? 1 : k;
    for (let t0 = 0; t0 < maxSteps; t0 += size, size = Math.min(k, size * 2)) {
      signal?.throwIfAborted();
      rt.record(pipeline, {
        pipeline: key,
        params: { u: [n, s4, R, t0, size, stepsBase, entryBase] },
        bindings: [planBuffer, theta, state, out],
        workgroups: [Math.ceil(s4 / SIMFLUENCE_WG), R],
      });
      // The kernel lays the chunk out as [R, size, sP] (params.k is the chunk's row stride).
      const raw = await rt.readOne(out);
      const losses = runs.map((run) => {
        const steps = Math.max(0, Math.min(size, run.curriculum.steps - t0));
        return new Float32Array(steps * s);
      });
      runs.forEach((_, r) => {
        const dst = losses[r];
        const steps = dst.length / s;
        for (let j = 0; j < steps; j++) {
          dst.set(raw.subarray((r * size + j) * sP, (r * size + j) * sP + s), j * s);
        }
      });
      yield { tStart: t0 + 1, tEnd: Math.min(t0 + size, maxSteps), losses };
    }
  } finally {
    out.dispose();
    state.dispose();
    rt.release(planBuffer);
  }
}

/** Uploads A and B of the chosen test examples as [2, n, sP]. */
export function uploadTheta(rt: GpuRuntime, sim: SimulatorParams, zs: readonly number[]): Tensor {
  const { n, m } = sim;
  const sP = paddedTests(zs.length);
  const theta = new Float32Array(2 * n * sP);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < zs.length; j++) {
      theta[i * sP + j] = sim.A[i * m + zs[j]];
      theta[(n + i) * sP + j] = sim.B[i * m + zs[j]];
    }
  }
  return rt.tensor(theta, [2, n, sP]);
}

/**
 * Streams a simulation on the GPU in chunks of `chunkSteps` steps. Breaking out of the loop or
 * aborting the signal stops the computation (the abort throws the signal's reason).
 */
export async function* simulateStream(
  rt: GpuRuntime,
  sim: SimulatorParams,
  request: SimulationRequest,
  options: RolloutOptions = {},
): AsyncGenerator<SimulationChunk> {
  const zs = selectedTests(sim, request.tests);
  checkInitial(request.initialLosses, zs.length);
  const curriculum = toCurriculum(request.batches, sim.n, true);
  const theta = uploadTheta(rt, sim, zs);
  try {
    const runs = [{ curriculum, initial: request.initialLosses }];
    for await (const chunk of rolloutGpu(rt, theta, sim.n, zs.length, runs, options)) {
      yield { tStart: chunk.tStart, tEnd: chunk.tEnd, losses: chunk.losses[0] };
    }
  } finally {
    theta.dispose();
  }
}

/** GPU simulation collected into a (T+1) x s trajectory, row 0 = the initial losses. */
export async function simulateGpu(
  rt: GpuRuntime,
  sim: SimulatorParams,
  request: SimulationRequest,
  options: RolloutOptions = {},
): Promise<Float32Array> {
  const s = request.tests ? request.tests.length : sim.m;
  const out = new Float32Array((request.batches.length + 1) * s);
  checkInitial(request.initialLosses, s);
  out.set(Array.from({ length: s }, (_, j) => request.initialLosses[j]), 0);
  for await (const chunk of simulateStream(rt, sim, request, options)) {
    out.set(chunk.losses, chunk.tStart * s);
  }
  return out;
}
