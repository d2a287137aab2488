// The LDS math: per-test Spearman over runs (average ranks, null when constant), the mean, and the
// seeded percentile bootstrap of the mean.
import assert from "node:assert/strict";
import {
  bootstrapMeanInterval,
  linearDatamodelingScore,
  perTestSpearman,
  quantileSorted,
} from "../../src/evaluations/lds.ts";
import { seededNormal } from "../../src/random.ts";

Deno.test("lds: per-test Spearman by hand, with ties and constant columns", () => {
  // 5 runs x 3 tests, row r = run r.
  //   test 0: predicted [1, 0, -1, -1, -3] → ranks [5, 4, 2.5, 2.5, 1]
  //           observed  [1.9, 1.7, 1.8, 1.5, 1.0] → ranks [5, 3, 4, 2, 1]
  //           centred: [2, 1, -.5, -.5, -2] · [2, 0, 1, -1, -2] = 8; |p|² = 9.5, |o|² = 10
  //           ρ = 8 / √95
  //   test 1: predicted [1, 1, 1, 0, -1] → ranks [4, 4, 4, 2, 1]
  //           observed  [1.2, 1.4, 1.3, 1.6, 1.1] → ranks [2, 4, 3, 5, 1]
  //           centred: [1, 1, 1, -1, -2] · [-1, 1, 0, 2, -2] = 2; |p|² = 8, |o|² = 10
  //           ρ = 2 / √80
  //   test 2: predicted constant → null (left out)
  const predicted = [[1, 1, 2], [0, 1, 2], [-1, 1, 2], [-1, 0, 2], [-3, -1, 2]].flat();
  const observed = [[1.9, 1.2, 1.5], [1.7, 1.4, 1.6], [1.8, 1.3, 1.7], [1.5, 1.6, 1.8], [
    1.0,
    1.1,
    1.9,
  ]].flat();
  const rho = perTestSpearman({ runs: 5, tests: 3, predicted, observed });
  assert.ok(Math.abs(rho[0]! - 8 / Math.sqrt(95)) < 1e-12, `${rho[0]}`);
  assert.ok(Math.abs(rho[1]! - 2 / Math.sqrt(80)) < 1e-12, `${rho[1]}`);
  assert.equal(rho[2], null);
  // Constant observations are null too.
  const flat = perTestSpearman({
    runs: 3,
    tests: 1,
    predicted: [1, 2, 3],
    observed: [4, 4, 4],
  });
  assert.deepEqual(flat, [null]);
  // Reversing the predictions negates ρ.
  const reversed = perTestSpearman({
    runs: 5,
    tests: 3,
    predicted: predicted.map((v) => -v),
    observed,
  });
  assert.ok(Math.abs(reversed[0]! + rho[0]!) < 1e-12);

  const summary = linearDatamodelingScore(
    { runs: 5, tests: 3, predicted, observed },
    { resamples: 1000, seed: 3, confidence: 0.95 },
  );
  assert.equal(summary.scoredTests, 2);
  assert.equal(summary.constantTests, 1);
  assert.ok(Math.abs(summary.mean! - (8 / Math.sqrt(95) + 2 / Math.sqrt(80)) / 2) < 1e-12);
  // Two values: a quarter of the resamples are each value twice, so the 2.5 % and 97.5 %
  // quantiles are the two values themselves.
  assert.ok(Math.abs(summary.interval!.lower - 2 / Math.sqrt(80)) < 1e-12);
  assert.ok(Math.abs(summary.interval!.upper - 8 / Math.sqrt(95)) < 1e-12);
  assert.throws(
    () => perTestSpearman({ runs: 5, tests: 3, predicted: predicted.slice(1), observed }),
    /runs x tests/,
  );
});

Deno.test("lds: no test example with a ρ gives a null mean and interval", () => {
  const summary = linearDatamodelingScore(
    { runs: 4, tests: 2, predicted: [1, 1, 1, 1, 1, 1, 1, 1], observed: [1, 2, 3, 4, 5, 6, 7, 8] },
    { resamples: 100, seed: 0, confidence: 0.95 },
  );
  assert.deepEqual(summary.perTest, [null, null]);
  assert.equal(summary.mean, null);
  assert.equal(summary.interval, null);
  assert.equal(summary.constantTests, 2);
});

Deno.test("lds: quantiles interpolate between order statistics", () => {
  const sorted = [1, 2, 4, 8];
  assert.equal(quantileSorted(sorted, 0), 1);
  assert.equal(quantileSorted(sorted, 1), 8);
  assert.equal(quantileSorted(sorted, 0.5), 3); // position 1.5
  assert.ok(Math.abs(quantileSorted(sorted, 0.9) - 6.8) < 1e-12); // position 2.7: 4 + 0.7·4
});

Deno.test("lds: the bootstrap interval is seeded, contains the mean and has the normal width", () => {
  const normal = seededNormal(17);
  const n = 301;
  const values = Array.from({ length: n }, () => 0.3 + 0.2 * normal());
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  const options = { resamples: 4000, seed: 5, confidence: 0.95 };
  const a = bootstrapMeanInterval(values, options);
  const b = bootstrapMeanInterval(values, options);
  assert.deepEqual(a, b);
  const other = bootstrapMeanInterval(values, { ...options, seed: 6 });
  assert.notDeepEqual(a, other);
  assert.ok(a.lower < mean && mean < a.upper, JSON.stringify({ a, mean }));
  // For a mean of n roughly normal values the 95 % interval is about mean ± 1.96·sd/√n.
  const half = 1.96 * sd / Math.sqrt(n);
  assert.ok(Math.abs((a.upper - a.lower) / 2 - half) < 0.1 * half, JSON.stringify({ a, half }));
  assert.ok(Math.abs((a.upper + a.lower) / 2 - mean) < 0.15 * half);
  // A narrower confidence gives a narrower interval, inside the wider one.
  const narrow = bootstrapMeanInterval(values, { ...options, confidence: 0.5 });
  assert.ok(a.lower < narrow.lower && narrow.upper < a.upper);
});
