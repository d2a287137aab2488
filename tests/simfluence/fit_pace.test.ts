// The fit's progress against the true share of time, on scripted solve durations (a fake clock):
// a λ search that stops early, and one that runs through the grid with trials growing slower.
import assert from "node:assert/strict";
import { FitPace, type FitProgress } from "../../src/simfluence/math/fit_pace.ts";

const GRID = 7;
const COLUMNS = 10;

/** Fraction reported at each moment, with the true share of the fit's time then. */
function replay(trials: readonly number[], refit: number): { share: number; fraction: number }[] {
  let nowMs = 0;
  const seen: { ms: number; fraction: number }[] = [];
  const pace = new FitPace(
    GRID,
    (p: FitProgress) => seen.push({ ms: nowMs, fraction: p.fraction }),
    () => nowMs,
  );
  const solve = (phase: FitProgress["phase"], seconds: number) => {
    for (let c = 1; c <= COLUMNS; c++) {
      nowMs += (seconds * 1000) / COLUMNS;
      pace.report(phase, 1, 0, c / COLUMNS);
    }
  };
  trials.forEach((seconds, k) => {
    pace.begin();
    solve("lambda-search", seconds);
    pace.end("lambda-search", 1, k < trials.length - 1);
  });
  pace.begin("final-solve");
  solve("final-solve", refit);
  pace.end("final-solve", 1);
  return seen.map((s) => ({ share: s.ms / nowMs, fraction: s.fraction }));
}

/**
 * The old report, for comparison: solves done (plus the current one's share) of every grid point
 * and the refit, whether or not the search goes through the grid.
 */
function replayOld(
  trials: readonly number[],
  refit: number,
): { share: number; fraction: number }[] {
  const total = trials.reduce((a, b) => a + b, 0) + refit;
  const out: { share: number; fraction: number }[] = [];
  let t = 0;
  [...trials, refit].forEach((seconds, k) => {
    for (let c = 1; c <= COLUMNS; c++) {
      t += seconds / COLUMNS;
      const solves = trials.length > 0 ? GRID + 1 : 1;
      out.push({ share: t / total, fraction: (k + c / COLUMNS) / solves });
    }
  });
  return out;
}

const worst = (points: { share: number; fraction: number }[]) =>
  Math.max(...points.map((p) => Math.abs(p.fraction - p.share)));

Deno.test("fit pace: the fraction keeps near the share of time, and never goes back", () => {
  const cases = {
    "search stops after 3 of 7 trials": { trials: [1, 1.2, 1.5], refit: 1.5 },
    "search runs the grid, trials slowing": { trials: [0.5, 0.6, 0.8, 1.1, 1.5, 2, 2.6], refit: 2 },
    "one fixed λ": { trials: [], refit: 3 },
  };
  for (const [name, { trials, refit }] of Object.entries(cases)) {
    const points = replay(trials, refit);
    for (let k = 1; k < points.length; k++) {
      assert.ok(points[k].fraction >= points[k - 1].fraction, `${name}: went back`);
    }
    assert.equal(points.at(-1)!.fraction, 1, name);
    const now = worst(points);
    const before = worst(replayOld(trials, refit));
    console.log(`${name}: strays ${now.toFixed(2)} (old report ${before.toFixed(2)})`);
    // Where the search stops is unknown until it does: half the trials left are expected, so the
    // fraction can be a third off just before an early stop (0.33 here), never more.
    assert.ok(now < 0.35, `${name}: strays ${now.toFixed(2)} from the time share`);
  }
});
