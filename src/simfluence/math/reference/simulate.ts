// Float64 CPU reference of the autoregressive Simfluence rollout (MATH.md §2, "Simulation"):
//   L̂_t = α_t L̂_{t-1} + β_t,  α_t = 1 + Σ_{i∈c_t} A_i,  β_t = Σ_{i∈c_t} B_i,
// from given initial losses, for any curriculum, on the simulator's own predictions. Ids outside
// the study (index -1) and unseen ids (A = B = 0) contribute nothing.
//
// The one-shot rollout is the reference for the GPU rollout (../kernels/simulate.ts); its
// streamed form is the service's simulation when there is no GPU. Requests, chunks and options
// are shared with the GPU path.
import { SimfluenceInputError, toCurriculum } from "../curriculum.ts";
import { TimeSlice } from "../time_slice.ts";
import type { Batch, Curriculum, SimulatorParams } from "../types.ts";

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

export function selectedTests(sim: SimulatorParams, tests?: readonly number[]): number[] {
  const zs = tests ? [...tests] : Array.from({ length: sim.m }, (_, z) => z);
  for (const z of zs) {
    if (!Number.isInteger(z) || z < 0 || z >= sim.m) {
      throw new SimfluenceInputError(`test index ${z} is outside [0, ${sim.m})`, { test: z });
    }
  }
  return zs;
}

export function checkInitial(initial: ArrayLike<number>, s: number): void {
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

/** `rolloutCpu` with the same numbers, giving the event loop a turn whenever `slice` is due. */
export async function rolloutCpuCooperative(
  sim: Pick<SimulatorParams, "n" | "m" | "A" | "B">,
  cur: Curriculum,
  initial: ArrayLike<number>,
  zs: readonly number[],
  slice: TimeSlice,
): Promise<Float32Array> {
  const s = zs.length;
  const out = new Float32Array((cur.steps + 1) * s);
  const state = new CpuRollout(sim, cur, initial, zs);
  out.set(state.l, 0);
  for (let t = 0; t < cur.steps; t++) {
    if (slice.due) await slice.yield();
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
