// Comparison of GPU results with float64 references under an explicit tolerance:
// |actual - expected| <= abs + rel·scale, where scale defaults to |expected| and may be given
// per element (e.g. the sum of |terms| for a reduction, which bounds its rounding error).

export interface Tolerance {
  abs?: number;
  rel?: number;
  /** Per-element magnitude the relative part is taken against (default |expected[i]|). */
  scale?: ArrayLike<number>;
}

export interface CloseReport {
  /** Largest error as a fraction of its allowance (<= 1 passes). */
  worstRatio: number;
  worstIndex: number;
}

export function compareClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
): CloseReport {
  if (actual.length !== expected.length) {
    throw new RangeError(`length ${actual.length} differs from expected ${expected.length}`);
  }
  const abs = tolerance.abs ?? 0;
  const rel = tolerance.rel ?? 0;
  let worstRatio = 0;
  let worstIndex = -1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const allowed = abs + rel * (tolerance.scale ? tolerance.scale[i] : Math.abs(e));
    const error = Math.abs(a - e);
    // NaN anywhere, or an infinity that is not matched exactly, fails outright.
    const ratio = a === e
      ? 0
      : Number.isNaN(error)
      ? Infinity
      : allowed > 0
      ? error / allowed
      : Infinity;
    if (ratio > worstRatio || worstIndex < 0) {
      worstRatio = ratio;
      worstIndex = i;
    }
  }
  return { worstRatio, worstIndex };
}

/** Throws with the worst element when any element is outside its tolerance. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  what = "values",
): CloseReport {
  const report = compareClose(actual, expected, tolerance);
  if (report.worstRatio > 1) {
    const i = report.worstIndex;
    throw new Error(
      `${what}: element ${i} is ${actual[i]}, expected ${expected[i]} ` +
        `(error ${Math.abs(actual[i] - expected[i])}, ${
          report.worstRatio.toFixed(2)
        }× the allowed ` +
        `abs ${tolerance.abs ?? 0} + rel ${tolerance.rel ?? 0}·scale)`,
    );
  }
  return report;
}

/** The largest |v_i| (0 for an empty array): the scale for tolerances relative to a tensor. */
export function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i]));
  return m;
}

/** max(1, |v_i|): a scale that makes `rel` absolute for small values and relative for large. */
export function unitScale(v: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: v.length }, (_, i) => Math.max(1, Math.abs(v[i])));
}
