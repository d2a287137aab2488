// Exact metagradients through AdamW training on the GPU (MAGIC; MATH.md §7): for each query q,
// τ_qi = ∂φ_q(θ_T(w))/∂w_i, the derivative of the query's summed loss at the final weights with
// respect to every training example's data weight, through the whole run.
//
// 1. Forward (the replay): train from the initial weights on the recorded batches, keeping the
//    states the checkpointing policy asks for (states.ts), and compare the test losses at those
//    steps with the recorded ones; a replay more than `tolerance` away is refused before any
//    differentiation (ReplayMismatchError).
// 2. Per query, reverse from (θ̄, m̄, v̄) = (∇φ_q(θ_T), 0, 0) for t = T−1 … 0: rematerialise
//    (θ_t, m_t, v_t), recompute g_t with the backward keeping its cotangents, pull the cotangents
//    back through the AdamW update (adamwReverse: ḡ), then one tangent pass along ḡ gives H_t·ḡ
//    (added to θ̄) and every position's ⟨∇ce, ḡ⟩, whose batch-weighted sums are the examples'
//    w̄_i (read back, accumulated in float64).
// Determinism matters: every kernel reduces in a fixed order, so the replay equals the recording.
import { axpy } from "../gpu/kernels/elementwise.ts";
import { fill } from "../gpu/kernels/fill.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Batch } from "../gpt2/batch.ts";
import { adamwReverse } from "../gpt2/kernels/optimizer_reverse.ts";
import { Gpt2Model } from "../gpt2/model.ts";
import { type GpuOptimizer, learningRate, type OptimizerConfig } from "../gpt2/optimizer.ts";
import type { ParamSet } from "../gpt2/params.ts";
import { type Objective, summedLoss } from "../gpt2/taps.ts";
import { checkTangentSupported } from "../gpt2/tangent.ts";
import { DomainError } from "../errors.ts";
import { type Checkpointing, StateCache } from "./states.ts";

/** One training step of the run: its batch (data weights included) and whose rows are whose. */
export interface ReplayStep {
  batch: Batch;
  /** Training example id of each batch row; null for filler rows. */
  rowIds: (string | null)[];
}

/** Test-loss probes the replay must reproduce: per-example mean losses after given steps. */
export interface ReplayProbe {
  /** Evaluation batches (their rows: the test examples in order, then fillers). */
  batches: Batch[];
  /**
   * The recorded per-example test losses after `step` (1-based), or null to skip that step. The
   * engine asks every ⌈√T⌉ steps and after the last.
   */
  expected(step: number): Float32Array | null;
}

export interface MetagradientProblem {
  initial: ParamSet;
  optimizer: OptimizerConfig;
  steps: ReplayStep[];
  /** One batch per query (its labelled tokens are φ's summed loss). */
  queries: Batch[];
  /** What φ is for each query (default: its loss summed over its labelled tokens). */
  objectives?: Objective[];
  checkpointing?: Checkpointing;
  probe?: ReplayProbe;
  /** Largest |replayed − recorded| test loss accepted (default 1e-5). */
  tolerance?: number;
}

export type MetagradientPhase = "forward" | "replay" | "reverse";

export interface MetagradientProgress {
  phase: MetagradientPhase;
  /** 0-based query index. */
  query: number;
  queries: number;
  /** Steps of the phase done, and of the run. */
  step: number;
  steps: number;
}

export interface MetagradientResult {
  /** Training ids in first-seen order. */
  trainIds: string[];
  /** τ [queries × trainIds] row-major (float64): ∂φ_q/∂w_i. */
  tau: Float64Array;
  /** φ_q(θ_T), each query's summed loss at the final weights. */
  finalLoss: number[];
  /** Largest |replayed − recorded| test loss seen by the probe (0 without one). */
  replayError: number;
  /** Most training states held on the GPU at once. */
  peakStates: number;
  /** Training steps computed (forward, replays) and reversed. */
  forwardSteps: number;
  reverseSteps: number;
}

/** A replay that does not reproduce the recorded trajectory (409). */
export class ReplayMismatchError extends DomainError {
  override name = "ReplayMismatchError";
  constructor(step: number, error: number, tolerance: number) {
    super(
      "conflict",
      "replay_mismatch",
      `replaying the run does not reproduce its recorded test losses: after step ${step} they ` +
        `differ by up to ${error.toExponential(2)} (tolerance ${tolerance}); metagradients of ` +
        "another trajectory would be meaningless",
      { step, maxAbsDifference: error, tolerance },
    );
  }
}

export interface MetagradientOptions {
  onProgress?: (progress: MetagradientProgress) => void;
  signal?: AbortSignal;
}

/** The training ids of the steps' rows, in first-seen order (τ's columns). */
export function distinctRowIds(steps: readonly ReplayStep[]): string[] {
  const ids = new Set<string>();
  for (const step of steps) for (const id of step.rowIds) if (id !== null) ids.add(id);
  return [...ids];
}

export async function computeMetagradients(
  rt: GpuRuntime,
  problem: MetagradientProblem,
  options: MetagradientOptions = {},
): Promise<MetagradientResult> {
  const { steps, queries, optimizer: config } = problem;
  if (config.kind !== "adamw") throw new Error("metagradients need an AdamW run");
  const T = steps.length;
  const tolerance = problem.tolerance ?? 1e-5;
  const signal = options.signal;
  const trainIds = distinctRowIds(steps);
  const column = new Map(trainIds.map((id, i) => [id, i]));
  const tau = new Float64Array(queries.length * trainIds.length);
  const finalLoss: number[] = [];

  // Everything allocated is released in the finally below, also when a later allocation fails.
  const disposers: (() => void)[] = [];
  try {
    const model = Gpt2Model.create(rt, problem.initial);
    disposers.push(() => model.dispose());
    checkTangentSupported(model.layout, null);
    const optimizer = model.createOptimizer(config);
    disposers.push(() => optimizer.dispose());
    const size = model.params.size;
    const cache = new StateCache(rt, size, problem.checkpointing ?? "sqrt", T);
    disposers.push(() => cache.dispose());
    const scratch = {
      thetaBar: rt.zeros([size]),
      mBar: rt.zeros([size]),
      vBar: rt.zeros([size]),
      gBar: rt.zeros([size]),
      hv: rt.zeros([size]),
      dot: rt.zeros([1]),
      losses: rt.zeros([1]),
    };
    disposers.push(() => Object.values(scratch).forEach((t) => t.dispose()));
    let forwardSteps = 0, reverseSteps = 0, replayError = 0;
    const moments = () => {
      const { first, second } = optimizer.moments();
      return { m: first[0], v: second![0] };
    };
    const save = (t: number, persistent: boolean) => {
      const { m, v } = moments();
      cache.save(t, model.params, m, v, persistent);
    };
    const load = (t: number) => {
      const state = cache.get(t);
      const { m, v } = moments();
      rt.copy(state.params, model.params);
      rt.copy(state.m, m);
      rt.copy(state.v, v);
      optimizer.step = t;
    };
    /** One training step from the model's current state t (t → t + 1). */
    const step = async (t: number, opt: GpuOptimizer) => {
      signal?.throwIfAborted();
      await model.recordTrainStepInto(steps[t].batch, opt, losses(steps[t].batch), 0);
      forwardSteps++;
    };
    const losses = (batch: Batch) => {
      const n = batch.B * batch.T + 1;
      if (scratch.losses.size < n) {
        scratch.losses.dispose();
        scratch.losses = rt.zeros([n]);
      }
      return scratch.losses;
    };
    const checkProbe = async (t: number) => {
      const expected = problem.probe?.expected(t);
      if (!expected) return;
      const replayed: number[] = [];
      for (const batch of problem.probe!.batches) {
        replayed.push(...(await model.forward(batch)).perExample);
      }
      let error = 0;
      for (let j = 0; j < expected.length; j++) {
        error = Math.max(error, Math.abs(replayed[j] - expected[j]));
      }
      replayError = Math.max(replayError, error);
      if (!(error <= tolerance)) throw new ReplayMismatchError(t, error, tolerance);
    };

    // 1. Forward: the replay, checked, keeping the policy's states.
    for (let t = 0; t < T; t++) {
      if (cache.keptByForward(t)) save(t, true);
      await step(t, optimizer);
      options.onProgress?.({
        phase: "forward",
        query: 0,
        queries: queries.length,
        step: t + 1,
        steps: T,
      });
      // Checked every ⌈√T⌉ steps and at the end, whatever the policy keeps.
      if ((t + 1) % cache.stride === 0 || t + 1 === T) await checkProbe(t + 1);
    }
    save(T, true);

    /** Makes state t saved, replaying from the nearest saved state before it. */
    const ensure = async (t: number, query: number) => {
      if (cache.has(t)) return;
      const from = cache.nearestAtOrBefore(t);
      load(from);
      for (let u = from; u < t; u++) {
        await step(u, optimizer);
        options.onProgress?.({
          phase: "replay",
          query,
          queries: queries.length,
          step: T - t,
          steps: T,
        });
        if (cache.keptByReplay(u + 1, from, t)) save(u + 1, false);
      }
    };

    // 2. Reverse, one query at a time.
    const { beta1, beta2, eps, weightDecay, maxGradNorm, schedule, lr } = config;
    const epsRoot = config.epsRoot;
    for (const [q, query] of queries.entries()) {
      load(T);
      const objective = await model.backward(query, problem.objectives?.[q] ?? summedLoss());
      finalLoss.push(objective.objective);
      rt.copy(model.grads, scratch.thetaBar);
      await fill(rt, scratch.mBar, 0);
      await fill(rt, scratch.vBar, 0);
      for (let t = T - 1; t >= 0; t--) {
        signal?.throwIfAborted();
        await ensure(t, q);
        load(t);
        const prepared = await model.recordGradientsForTangent(steps[t].batch);
        const { m, v } = moments();
        await adamwReverse(rt, [{
          params: model.params,
          grads: model.grads,
          m,
          v,
          normSq: model.gradNormSq(),
          decayEnd: model.layout.segments[0].decayEnd,
          maxNorm: maxGradNorm,
          thetaBar: scratch.thetaBar,
          mBar: scratch.mBar,
          vBar: scratch.vBar,
          gBar: scratch.gBar,
          gDotGBarTilde: scratch.dot,
        }], {
          lr: learningRate(lr, t + 1, schedule),
          beta1,
          beta2,
          eps,
          epsRoot,
          weightDecay,
          step: t + 1,
        });
        const lossDot = await model.recordTangent(scratch.gBar, scratch.hv);
        await axpy(rt, 1, scratch.hv, scratch.thetaBar);
        const [dots] = await rt.read([lossDot]);
        // w̄_i += ⟨∇(example i's mean loss)/active, ḡ⟩: the unweighted objective weights.
        const { B, T: len, exampleWeights, activeExamples } = prepared;
        for (let b = 0; b < B; b++) {
          const id = steps[t].rowIds[b];
          if (id === null || activeExamples === 0) continue;
          let sum = 0;
          for (let p = b * len; p < (b + 1) * len; p++) {
            if (exampleWeights[p] !== 0) sum += exampleWeights[p] * dots[p];
          }
          tau[q * trainIds.length + column.get(id)!] += sum / activeExamples;
        }
        cache.releaseFrom(t);
        reverseSteps++;
        options.onProgress?.({
          phase: "reverse",
          query: q,
          queries: queries.length,
          step: T - t,
          steps: T,
        });
      }
    }
    return {
      trainIds,
      tau,
      finalLoss,
      replayError,
      peakStates: cache.peak,
      forwardSteps,
      reverseSteps,
    };
  } finally {
    for (const dispose of disposers.reverse()) dispose();
  }
}
