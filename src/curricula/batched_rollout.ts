// Many candidate curricula rolled out through one simulator in one call, in float64 on the CPU
// (MATH.md §2's L̂_t = (1 + Σ_{i∈c_t} A_i)·L̂_{t−1} + Σ_{i∈c_t} B_i), for the objective's test
// examples only. With `fittedPresent` p̄, each step's sums are scaled by p̄/p_t (p_t: the entries
// the candidate keeps in that batch): an AdamW step moves the weights by about the same amount
// whatever the number of examples it averages, so a step's effect is the mean of its examples'
// effects, which Simfluence's sums express at the p̄ entries per step it was fitted on. A candidate is a kept mask over the candidates (the base run's ids) and an order
// of the base run's batches. The simulator's parameters are gathered once into dense
// [pool × objective tests] blocks, so each candidate costs T·(batch entries)·s multiply-adds and no
// allocation: the search evaluates its candidates a round at a time through here.
import type { SimulatorParams } from "../simfluence/math/types.ts";
import { presentIds } from "../runs/run_input.ts";
import type { Setting } from "./setting.ts";

export interface Candidate {
  /** 1 for each kept pool index. */
  mask: Uint8Array;
  /** Base batch index at each step. */
  order: ArrayLike<number>;
}

export interface RolloutProblem {
  /** Pool size n and objective tests s. */
  n: number;
  s: number;
  T: number;
  /** Base batch b's entries (pool indices; repeats allowed): entries[ptr[b] .. ptr[b+1]). */
  ptr: Int32Array;
  entries: Int32Array;
  /** [n × s] gathered simulator parameters (0 for ids the simulator never saw). */
  A: Float64Array;
  B: Float64Array;
  /** L_0 of the objective's tests and their weights (summing to 1). */
  initial: Float64Array;
  weights: Float64Array;
  at: "final" | "mean";
  /** Mean entries per step of the simulator's fitting runs (null: plain sums, no scaling). */
  fittedPresent: number | null;
  /** Pool ids the simulator has no parameters for. */
  unknownToSimulator: string[];
}

export function rolloutProblem(
  setting: Setting,
  sim: { params: SimulatorParams; trainIds: readonly string[]; testIds: readonly string[] },
  initialLosses: ArrayLike<number>,
  fittedPresent: number | null = null,
): RolloutProblem {
  const { pool, objective } = setting;
  const n = pool.length, s = objective.tests.length;
  const poolIndex = new Map(pool.map((id, i) => [id, i]));
  const steps = setting.base.run.steps;
  const ptr = new Int32Array(steps.length + 1);
  const list: number[] = [];
  steps.forEach((step, b) => {
    for (const id of presentIds(step)) list.push(poolIndex.get(id)!);
    ptr[b + 1] = list.length;
  });
  const simTrain = new Map(sim.trainIds.map((id, i) => [id, i]));
  const simTest = objective.tests.map((id) => sim.testIds.indexOf(id));
  const A = new Float64Array(n * s), B = new Float64Array(n * s);
  const m = sim.params.m;
  const unknownToSimulator: string[] = [];
  pool.forEach((id, i) => {
    const row = simTrain.get(id);
    if (row === undefined) {
      unknownToSimulator.push(id);
      return;
    }
    simTest.forEach((z, j) => {
      A[i * s + j] = sim.params.A[row * m + z];
      B[i * s + j] = sim.params.B[row * m + z];
    });
  });
  return {
    n,
    s,
    T: steps.length,
    ptr,
    entries: Int32Array.from(list),
    A,
    B,
    initial: Float64Array.from(objective.columns, (z) => initialLosses[z]),
    weights: Float64Array.from(objective.weights),
    at: objective.at,
    fittedPresent,
    unknownToSimulator,
  };
}

/** Scratch buffers of one rollout, reused across candidates. */
class Scratch {
  readonly l: Float64Array;
  readonly a: Float64Array;
  readonly b: Float64Array;
  constructor(s: number) {
    this.l = new Float64Array(s);
    this.a = new Float64Array(s);
    this.b = new Float64Array(s);
  }
}

function weighted(l: Float64Array, w: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < l.length; j++) sum += w[j] * l[j];
  return sum;
}

/** One candidate's objective; with `trajectory`, also the objective after every step 0…T. */
function rollOne(
  p: RolloutProblem,
  c: Candidate,
  scratch: Scratch,
  trajectory?: number[],
): number {
  const { s, A, B, ptr, entries } = p;
  const { l, a, b } = scratch;
  l.set(p.initial);
  trajectory?.push(weighted(l, p.weights));
  let mean = 0;
  for (let t = 0; t < p.T; t++) {
    a.fill(0);
    b.fill(0);
    const batch = c.order[t];
    let present = 0;
    for (let e = ptr[batch]; e < ptr[batch + 1]; e++) {
      const i = entries[e];
      if (c.mask[i] === 0) continue;
      present++;
      const row = i * s;
      for (let j = 0; j < s; j++) {
        a[j] += A[row + j];
        b[j] += B[row + j];
      }
    }
    const scale = p.fittedPresent === null || present === 0 ? 1 : p.fittedPresent / present;
    for (let j = 0; j < s; j++) l[j] = (1 + scale * a[j]) * l[j] + scale * b[j];
    const value = weighted(l, p.weights);
    mean += value;
    trajectory?.push(value);
  }
  return p.at === "final" || p.T === 0 ? weighted(l, p.weights) : mean / p.T;
}

/** The objective of every candidate, in one call (the search's batched evaluation). */
export function rolloutBatch(p: RolloutProblem, candidates: readonly Candidate[]): Float64Array {
  const scratch = new Scratch(p.s);
  const out = new Float64Array(candidates.length);
  for (let k = 0; k < candidates.length; k++) out[k] = rollOne(p, candidates[k], scratch);
  return out;
}

/** One candidate's objective and its trajectory (steps 0…T). */
export function rolloutTrajectory(
  p: RolloutProblem,
  candidate: Candidate,
): { objective: number; trajectory: number[] } {
  const trajectory: number[] = [];
  const objective = rollOne(p, candidate, new Scratch(p.s), trajectory);
  return { objective, trajectory };
}
