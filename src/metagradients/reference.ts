// Float64 reference of metagradients (MATH.md §7) on tiny models: AdamW training from the float64
// model (src/gpt2/reference/), the whole reverse pass, and the quantities the tests compare.
//
// It shares no GPU code and none of the tangent kernels' derivations: the Hessian–vector product
// here is a Richardson-extrapolated central difference of the float64 gradient (error ~1e-10 of
// the product on these models, far below float32's), and each example's ⟨∇ℓ_i, ḡ⟩ is the exact
// float64 gradient of its term. The reverse through AdamW is adamwReverse64. Slow: plain loops.
import { type Batch, prepareBatch } from "../gpt2/batch.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import type { OptimizerConfig } from "../gpt2/optimizer.ts";
import { learningRate } from "../gpt2/optimizer.ts";
import { type ParamSet, paramSpecs } from "../gpt2/params.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
  zerosLike,
} from "../gpt2/reference/model.ts";
import {
  type AdamwCotangent64,
  adamwForward64,
  adamwReverse64,
  type AdamwSegment64,
  type AdamwStepHyper64,
} from "../gpt2/reference/optimizer_reverse.ts";
import type { ReplayStep } from "./engine.ts";

export interface ReferenceProblem {
  initial: ParamSet;
  optimizer: OptimizerConfig;
  steps: ReplayStep[];
  query: Batch;
}

export interface State64 {
  params: Params64;
  m: Params64;
  v: Params64;
}

type Names = { name: string; decay: boolean }[];

function hyper(config: OptimizerConfig, step: number): AdamwStepHyper64 {
  if (config.kind !== "adamw") throw new Error("the reference reverses AdamW only");
  return {
    lr: learningRate(config.lr, step, config.schedule),
    beta1: config.beta1,
    beta2: config.beta2,
    eps: config.eps,
    epsRoot: config.epsRoot,
    weightDecay: config.weightDecay,
    step,
    maxNorm: config.maxGradNorm,
  };
}

/** Each parameter its own segment (decayed whole or not at all); clipping is global over them. */
function segments(names: Names, s: State64, g: Params64): AdamwSegment64[] {
  return names.map(({ name, decay }) => ({
    theta: s.params.get(name)!,
    m: s.m.get(name)!,
    v: s.v.get(name)!,
    g: g.get(name)!,
    decayEnd: decay ? s.params.get(name)!.length : 0,
  }));
}

/**
 * The batch objective's weights per position in float64: data weight (plus `change`, by training
 * id) × 1/count / active examples. prepareBatch's own are float32, which would round a small
 * change of a weight away.
 */
function objectiveWeights64(
  step: ReplayStep,
  config: Gpt2Config,
  change?: ReadonlyMap<string, number>,
): Float64Array {
  const prepared = prepareBatch({ ...step.batch, dataWeights: undefined }, config);
  const { T, exampleWeights, activeExamples } = prepared;
  return Float64Array.from(exampleWeights, (w, r) => {
    if (w === 0 || activeExamples === 0) return 0;
    const b = Math.floor(r / T), id = step.rowIds[b];
    const data = (step.batch.dataWeights?.[b] ?? 1) + (id !== null ? change?.get(id) ?? 0 : 0);
    return data * w / activeExamples;
  });
}

function gradient(params: Params64, config: Gpt2Config, batch: Batch, weights?: ArrayLike<number>) {
  const prepared = prepareBatch(batch, config);
  const fwd = referenceForward(params, config, prepared);
  return { prepared, fwd, grads: referenceBackward(params, config, prepared, fwd, weights) };
}

/** Trains in float64; returns every state (0 … T). `change` adds to data weights by id. */
export function referenceTrain(
  problem: ReferenceProblem,
  change?: ReadonlyMap<string, number>,
): State64[] {
  const config = problem.initial.config;
  const names: Names = paramSpecs(config).map((s) => ({ name: s.name, decay: s.decay }));
  const params = toParams64(problem.initial);
  let state: State64 = { params, m: zerosLike(params), v: zerosLike(params) };
  const states = [state];
  problem.steps.forEach((step, t) => {
    const { grads } = gradient(
      state.params,
      config,
      step.batch,
      objectiveWeights64(step, config, change),
    );
    const next = adamwForward64(segments(names, state, grads), hyper(problem.optimizer, t + 1));
    const pack = (k: "theta" | "m" | "v") =>
      new Map(names.map(({ name }, i) => [name, next[i][k]])) as Params64;
    state = { params: pack("theta"), m: pack("m"), v: pack("v") };
    states.push(state);
  });
  return states;
}

/** φ: the query's summed loss over its labelled tokens. */
export function queryLoss(params: Params64, config: Gpt2Config, query: Batch): number {
  const prepared = prepareBatch(query, config);
  const fwd = referenceForward(params, config, prepared);
  let sum = 0;
  prepared.exampleWeights.forEach((w, r) => {
    if (w > 0) sum += fwd.tokenLoss[r];
  });
  return sum;
}

function axpy(alpha: number, x: Params64, y: Params64): Params64 {
  return new Map([...y].map(([k, v]) => [k, v.map((e, i) => e + alpha * x.get(k)![i])]));
}

function dot(a: Params64, b: Params64): number {
  let s = 0;
  for (const [k, v] of a) {
    const w = b.get(k)!;
    for (let i = 0; i < v.length; i++) s += v[i] * w[i];
  }
  return s;
}

function norm(a: Params64): number {
  return Math.sqrt(dot(a, a));
}

/** H·v of the batch objective at params, by Richardson-extrapolated central differences. */
export function referenceHvp(
  params: Params64,
  config: Gpt2Config,
  step: ReplayStep,
  v: Params64,
): Params64 {
  const size = norm(v);
  if (size === 0) return zerosLike(params);
  const weights = objectiveWeights64(step, config);
  const central = (h: number) => {
    const plus = gradient(axpy(h, v, params), config, step.batch, weights).grads;
    const minus = gradient(axpy(-h, v, params), config, step.batch, weights).grads;
    return new Map(
      [...plus].map(([k, p]) => [k, p.map((e, i) => (e - minus.get(k)![i]) / (2 * h))]),
    );
  };
  const h = 1e-3 / size;
  const coarse = central(h), fine = central(h / 2);
  return new Map([...fine].map(([k, f]) => [k, f.map((e, i) => (4 * e - coarse.get(k)![i]) / 3)]));
}

/**
 * τ_i = ∂φ(θ_T)/∂w_i for every training id of the run, by the reverse recursion in float64.
 * `states` (0 … T) replaces the float64 training's own trajectory, e.g. with a GPU run's states,
 * so that only the reverse pass is compared.
 */
export function referenceMetagradient(
  problem: ReferenceProblem,
  states: readonly State64[] = referenceTrain(problem),
): Map<string, number> {
  const config = problem.initial.config;
  const names: Names = paramSpecs(config).map((s) => ({ name: s.name, decay: s.decay }));
  const T = problem.steps.length;
  const final = states[T].params;
  const prepared = prepareBatch(problem.query, config);
  const queryWeights = prepared.exampleWeights.map((w) => (w > 0 ? 1 : 0));
  let thetaBar = gradient(final, config, problem.query, queryWeights).grads;
  let mBar = zerosLike(final), vBar = zerosLike(final);
  const tau = new Map<string, number>();
  for (let t = T - 1; t >= 0; t--) {
    const step = problem.steps[t];
    const state = states[t];
    const { prepared: batch, fwd, grads } = gradient(
      state.params,
      config,
      step.batch,
      objectiveWeights64(step, config),
    );
    const after: AdamwCotangent64[] = names.map(({ name }) => ({
      thetaBar: thetaBar.get(name)!,
      mBar: mBar.get(name)!,
      vBar: vBar.get(name)!,
    }));
    const back = adamwReverse64(
      segments(names, state, grads),
      after,
      hyper(problem.optimizer, t + 1),
    );
    const pack = (k: "thetaBar" | "mBar" | "vBar" | "gBar") =>
      new Map(names.map(({ name }, i) => [name, back[i][k]])) as Params64;
    const gBar = pack("gBar");
    const hv = referenceHvp(state.params, config, step, gBar);
    thetaBar = axpy(1, hv, pack("thetaBar"));
    mBar = pack("mBar");
    vBar = pack("vBar");
    // w̄_i += ⟨∇(example i's mean loss)/active, ḡ⟩, exactly, one example at a time.
    for (let b = 0; b < batch.B; b++) {
      const id = step.rowIds[b];
      if (id === null || batch.activeExamples === 0) continue;
      const weights = batch.exampleWeights.map((w, r) =>
        Math.floor(r / batch.T) === b ? w / batch.activeExamples : 0
      );
      const share = referenceBackward(state.params, config, batch, fwd, weights);
      tau.set(id, (tau.get(id) ?? 0) + dot(share, gBar));
    }
  }
  return tau;
}

/** ∂φ(θ_T)/∂w_i by central differences of float64 retraining (the independent check). */
export function finiteDifferenceMetagradient(
  problem: ReferenceProblem,
  id: string,
  h = 1e-4,
): number {
  const config = problem.initial.config;
  const at = (delta: number) => {
    const states = referenceTrain(problem, new Map([[id, delta]]));
    return queryLoss(states[states.length - 1].params, config, problem.query);
  };
  return (at(h) - at(-h)) / (2 * h);
}
