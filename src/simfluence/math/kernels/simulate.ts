// GPU Simfluence rollout (MATH.md §2, "Simulation"; shaders/simfluence_simulate.wgsl): the
// trajectories of several runs at once, streamed in chunks of steps so a caller can stop early
// (AbortSignal). The float64 CPU rollout in ../reference/simulate.ts is its reference and the
// fallback without a GPU.
import type { GpuRuntime } from "../../../gpu/runtime.ts";
import type { Tensor } from "../../../gpu/tensor.ts";
import { toCurriculum } from "../curriculum.ts";
import {
  checkInitial,
  type RolloutOptions,
  selectedTests,
  type SimulationChunk,
  type SimulationRequest,
} from "../reference/simulate.ts";
import { paddedTests, SIMFLUENCE_WG } from "./layout.ts";
import type { Curriculum, SimulatorParams } from "../types.ts";

/** One run of a batched GPU rollout. */
export interface RolloutRun {
  curriculum: Curriculum;
  /** L_0 for the s simulated test examples. */
  initial: ArrayLike<number>;
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
  const planBuffer = rt.u32Storage(plan);
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
