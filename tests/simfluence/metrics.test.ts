import assert from "node:assert/strict";
import fc from "fast-check";
import {
  averageRanks,
  pooledMetrics,
  spearman,
  trajectoryMetrics,
} from "../../src/simfluence/math/metrics.ts";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);

// Trajectories are (T+1) x s with row 0 = L_0, which the metrics ignore.
const run1 = {
  tests: 3,
  predicted: [9, 9, 9, 1, 2, 3, 2, 2, 5],
  observed: [1, 1, 1, 1, 1, 1, 1, 3, 4],
};
const run2 = { tests: 3, predicted: [7, 7, 7, 0, 0, 0], observed: [1, 2, 3, 1, 2, 3] };

Deno.test("average ranks share tied positions", () => {
  assert.deepEqual([...averageRanks([2, 2, 5])], [1.5, 1.5, 3]);
  assert.deepEqual([...averageRanks([1, 3, 4, 1, 2, 3])], [1.5, 4.5, 6, 1.5, 3, 4.5]);
  assert.deepEqual([...averageRanks([0, 0, 0])], [2, 2, 2]);
});

Deno.test("metrics of one run, computed by hand", () => {
  const m = trajectoryMetrics(run1);
  // errors t=1: 0,1,2; t=2: 1,-1,1
  close(m.allStepsMse, 8 / 6);
  close(m.allStepsMae, 6 / 6);
  close(m.finalStepMse, 3 / 3);
  // ranks (1.5,1.5,3) vs (1,2,3): 1.5 / sqrt(1.5 * 2)
  close(m.finalStepSpearman, 1.5 / Math.sqrt(3));
  assert.equal(m.count, 6);
});

Deno.test("pooled metrics weight every (z, t, run) term and rank all (z, run) pairs", () => {
  const { perRun, pooled, meanRunSpearman } = pooledMetrics([run1, run2]);
  close(perRun[1].allStepsMse, 14 / 3);
  assert.ok(Number.isNaN(perRun[1].finalStepSpearman), "constant prediction has no Spearman");
  close(pooled.allStepsMse, 22 / 9);
  close(pooled.allStepsMae, 12 / 9);
  close(pooled.finalStepMse, 17 / 6);
  // ranks (4.5,4.5,6,2,2,2) vs (1.5,4.5,6,1.5,3,4.5): 7.5 / sqrt(15 * 16.5)
  close(pooled.finalStepSpearman, 7.5 / Math.sqrt(15 * 16.5));
  close(meanRunSpearman, 1.5 / Math.sqrt(3));
});

Deno.test("shape mismatches are rejected", () => {
  assert.throws(() => trajectoryMetrics({ tests: 2, predicted: [1, 2, 3], observed: [1, 2, 3] }));
  assert.throws(() => trajectoryMetrics({ tests: 3, predicted: [1, 2, 3], observed: [1, 2, 3] }));
});

Deno.test("spearman is 1 under a strictly increasing map and -1 under a decreasing one", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 2, maxLength: 30 }),
      (xs) => {
        fc.pre(new Set(xs).size > 1);
        close(spearman(xs, xs.map((x) => x * x * x + 3 * x)), 1, 1e-12);
        close(spearman(xs, xs.map((x) => -Math.exp(x))), -1, 1e-12);
      },
    ),
  );
});
