// The linear datamodeling score (LDS): how well an attribution method ranks training runs by the
// final loss they give each test example. Per test example z, Spearman's ρ over the runs between
// the method's predicted and the observed final loss L_T(z) (ties get average ranks); the LDS is
// the mean over test examples, with a seeded percentile-bootstrap interval that resamples test
// examples. A test example whose predictions or observations are the same on every run has no ρ
// (null) and is left out of the mean.
import { spearman } from "../simfluence/math/metrics.ts";
import { seededUniform } from "../random.ts";

/** Final losses of R runs for m test examples, R x m row-major (row r = run r). */
export interface FinalLosses {
  runs: number;
  tests: number;
  predicted: ArrayLike<number>;
  observed: ArrayLike<number>;
}

export interface BootstrapOptions {
  /** Number of resamples of the test examples. */
  resamples: number;
  seed: number;
  /** Two-sided coverage, e.g. 0.95. */
  confidence: number;
}

export interface LdsSummary {
  /** ρ per test example, null where either side is constant over the runs. */
  perTest: (number | null)[];
  /** Mean ρ over the test examples that have one; null when none has. */
  mean: number | null;
  /** Percentile-bootstrap interval of the mean; null when no test example has a ρ. */
  interval: { lower: number; upper: number } | null;
  /** Test examples with a ρ (in the mean) and without one (left out). */
  scoredTests: number;
  constantTests: number;
}

/** Spearman's ρ of each test example (column) over the runs (rows); null when undefined. */
export function perTestSpearman(losses: FinalLosses): (number | null)[] {
  const { runs: R, tests: m, predicted, observed } = losses;
  if (predicted.length !== R * m || observed.length !== R * m) {
    throw new RangeError(`predicted and observed must both hold runs x tests = ${R * m} values`);
  }
  const p = new Float64Array(R);
  const o = new Float64Array(R);
  const out: (number | null)[] = [];
  for (let z = 0; z < m; z++) {
    for (let r = 0; r < R; r++) {
      p[r] = predicted[r * m + z];
      o[r] = observed[r * m + z];
    }
    const rho = spearman(p, o);
    out.push(Number.isFinite(rho) ? rho : null);
  }
  return out;
}

/** Quantile of sorted values by linear interpolation between order statistics (position q(n−1)). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantile of no values");
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Percentile bootstrap of the mean: `resamples` times, draw values.length values with replacement
 * (mulberry32 seeded with `seed`) and take their mean; the interval is the (1−c)/2 and (1+c)/2
 * quantiles of those means.
 */
export function bootstrapMeanInterval(
  values: readonly number[],
  options: BootstrapOptions,
): { lower: number; upper: number } {
  const n = values.length;
  if (n === 0) throw new RangeError("bootstrap of no values");
  const rand = seededUniform(options.seed);
  const means = new Float64Array(options.resamples);
  for (let b = 0; b < options.resamples; b++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += values[Math.floor(rand() * n)];
    means[b] = sum / n;
  }
  means.sort();
  const tail = (1 - options.confidence) / 2;
  return { lower: quantileSorted(means, tail), upper: quantileSorted(means, 1 - tail) };
}

export function linearDatamodelingScore(
  losses: FinalLosses,
  bootstrap: BootstrapOptions,
): LdsSummary {
  const perTest = perTestSpearman(losses);
  const scored = perTest.filter((v): v is number => v !== null);
  const mean = scored.length > 0 ? scored.reduce((a, b) => a + b, 0) / scored.length : null;
  return {
    perTest,
    mean,
    interval: scored.length > 0 ? bootstrapMeanInterval(scored, bootstrap) : null,
    scoredTests: scored.length,
    constantTests: perTest.length - scored.length,
  };
}
