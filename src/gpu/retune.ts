// When a cached tuning choice is not to be trusted: tuning that ran while the machine was busy
// measured every candidate slow and cached a choice at a figure far below what the adapter can
// do. Two signs give it away: the figure is far below the best any tuning measured on this
// adapter, or the same configuration, probed now, runs far faster than the figure says.

/** Re-tune when the cached figure is below this share of the adapter's best measurement. */
export const RETUNE_BELOW_BEST = 0.5;
/** Re-tune when a probe of the cached choice now runs this many times faster than its figure. */
export const RETUNE_PROBE_FASTER = 2;

export interface CachedFigures {
  /** GFLOP/s the cached choice measured when it was chosen. */
  figure: number | null;
  /** The best GFLOP/s any tuning measured on this adapter. */
  best: number | null;
}

/** Why the cached choice must be measured again, or null to keep it. */
export function retuneReason(cached: CachedFigures, probeGflops: number | null): string | null {
  const { figure, best } = cached;
  if (figure === null || !(figure > 0)) return "the cache holds no figure for its choice";
  if (best !== null && figure < RETUNE_BELOW_BEST * best) {
    return `cached ${figure} GFLOP/s is below ${RETUNE_BELOW_BEST} of the ${best} GFLOP/s ` +
      "this adapter measured before";
  }
  if (probeGflops !== null && probeGflops > RETUNE_PROBE_FASTER * figure) {
    return `the cached choice runs at ${Number(probeGflops.toFixed(2))} GFLOP/s now, over ` +
      `${RETUNE_PROBE_FASTER}x its cached ${figure} GFLOP/s (tuned on a busy machine)`;
  }
  return null;
}

/** The best numeric figure of a tuning report's `gflops` (failed candidates hold strings). */
export function bestFigure(gflops: unknown): number | null {
  if (typeof gflops !== "object" || gflops === null) return null;
  const values = Object.values(gflops).filter((v): v is number =>
    typeof v === "number" && Number.isFinite(v)
  );
  return values.length > 0 ? Math.max(...values) : null;
}
