// Simulator quality on held-out runs (MATH.md §2, "Metrics"). Trajectories are (T+1) x s
// row-major with row 0 = L_0; errors are taken over steps t = 1..T only.

export interface TrajectoryMetrics {
  /** Mean over test examples and steps t = 1..T of (L̂_t - L_t)². */
  allStepsMse: number;
  /** Mean over test examples and steps of |L̂_t - L_t|. */
  allStepsMae: number;
  /** Mean over test examples of (L̂_T - L_T)². */
  finalStepMse: number;
  /** Spearman's ρ between L̂_T(z) and L_T(z) across test examples (NaN if either is constant). */
  finalStepSpearman: number;
  /** Number of (test example, step) terms in the all-steps means. */
  count: number;
}

export interface EvaluatedTrajectory {
  predicted: ArrayLike<number>;
  observed: ArrayLike<number>;
  /** Number of test examples (columns). */
  tests: number;
}

/** Ranks 1..n with ties given the average of the ranks they span. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && values[order[end]] === values[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new RangeError("pearson needs equal lengths");
  let mx = 0;
  let my = 0;
  for (let k = 0; k < n; k++) {
    mx += x[k];
    my += y[k];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let k = 0; k < n; k++) {
    const dx = x[k] - mx;
    const dy = y[k] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/** Spearman's ρ: Pearson correlation of average ranks (NaN when either side is constant). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError("spearman needs equal lengths");
  if (x.length < 2) return NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

function checkShape(t: EvaluatedTrajectory, which: string): number {
  const { predicted, observed, tests } = t;
  if (predicted.length !== observed.length || tests < 1 || observed.length % tests !== 0) {
    throw new RangeError(`${which}: predicted and observed must both be (T+1) x ${tests}`);
  }
  const steps = observed.length / tests - 1;
  if (steps < 1) throw new RangeError(`${which}: needs at least one step`);
  return steps;
}

function finalRow(values: ArrayLike<number>, steps: number, s: number): Float64Array {
  return Float64Array.from({ length: s }, (_, j) => values[steps * s + j]);
}

export function trajectoryMetrics(t: EvaluatedTrajectory): TrajectoryMetrics {
  return pooledMetrics([t]).pooled;
}

/**
 * Per-run metrics and metrics pooled over all runs: the all-steps and final-step means are taken
 * over every (z, t, run) or (z, run) term, and the pooled Spearman ranks all (z, run) pairs
 * together. `meanRunSpearman` averages the per-run values that are defined.
 */
export function pooledMetrics(runs: readonly EvaluatedTrajectory[]): {
  perRun: TrajectoryMetrics[];
  pooled: TrajectoryMetrics;
  meanRunSpearman: number;
} {
  if (runs.length === 0) throw new RangeError("metrics need at least one run");
  let sq = 0;
  let abs = 0;
  let count = 0;
  let finalSq = 0;
  let finalCount = 0;
  const finalPred: number[] = [];
  const finalObs: number[] = [];
  const perRun = runs.map((run, r) => {
    const s = run.tests;
    const steps = checkShape(run, `run ${r}`);
    let runSq = 0;
    let runAbs = 0;
    for (let k = s; k < (steps + 1) * s; k++) {
      const d = run.predicted[k] - run.observed[k];
      runSq += d * d;
      runAbs += Math.abs(d);
    }
    const p = finalRow(run.predicted, steps, s);
    const o = finalRow(run.observed, steps, s);
    let runFinal = 0;
    for (let j = 0; j < s; j++) runFinal += (p[j] - o[j]) ** 2;
    sq += runSq;
    abs += runAbs;
    count += steps * s;
    finalSq += runFinal;
    finalCount += s;
    finalPred.push(...p);
    finalObs.push(...o);
    return {
      allStepsMse: runSq / (steps * s),
      allStepsMae: runAbs / (steps * s),
      finalStepMse: runFinal / s,
      finalStepSpearman: spearman(p, o),
      count: steps * s,
    };
  });
  const defined = perRun.map((m) => m.finalStepSpearman).filter((v) => !Number.isNaN(v));
  return {
    perRun,
    pooled: {
      allStepsMse: sq / count,
      allStepsMae: abs / count,
      finalStepMse: finalSq / finalCount,
      finalStepSpearman: spearman(finalPred, finalObs),
      count,
    },
    meanRunSpearman: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : NaN,
  };
}
