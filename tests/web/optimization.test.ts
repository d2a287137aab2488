// The Optimise tab's arithmetic (web/src/optimization.ts): an observed run's objective trajectory
// as the service weighs it, the mean of trajectories, which search point a job's progress event
// is (simulator rounds; metagradient iterations, whose events during an iteration still carry the
// previous one's objective), and the stored search laid out on the rounds' axis.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  meanTrajectory,
  objectiveTrajectory,
  predictedGain,
  searchPoint,
  storedSearch,
} from "../../web/src/optimization.ts";

Deno.test("objectiveTrajectory: Σ w_j L_j(t) over the objective's tests, others ignored", () => {
  const observed = { q0: [3, 2, 1], q1: [5, 4, 3], q2: [100, 100, 100] };
  assert.deepEqual(objectiveTrajectory(observed, ["q0", "q1"], [0.25, 0.75]), [4.5, 3.5, 2.5]);
  assert.equal(objectiveTrajectory(observed, ["q9"], [1]), null);
  assert.equal(objectiveTrajectory(observed, [], []), null);
});

Deno.test("objectiveTrajectory: equals the weighted mean at every step (property)", () => {
  fc.assert(fc.property(
    fc.array(
      fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 }),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
    fc.array(fc.double({ min: 0.01, max: 5, noNaN: true }), { minLength: 5, maxLength: 5 }),
    (columns, raw) => {
      const tests = columns.map((_, j) => `q${j}`);
      const total = raw.slice(0, columns.length).reduce((a, b) => a + b, 0);
      const weights = raw.slice(0, columns.length).map((w) => w / total);
      const got = objectiveTrajectory(
        Object.fromEntries(tests.map((t, j) => [t, columns[j]])),
        tests,
        weights,
      )!;
      for (let t = 0; t < 4; t++) {
        const want = columns.reduce((s, c, j) => s + weights[j] * c[t], 0);
        assert.ok(Math.abs(got[t] - want) <= 1e-9 * (1 + Math.abs(want)));
        const low = Math.min(...columns.map((c) => c[t]));
        const high = Math.max(...columns.map((c) => c[t]));
        assert.ok(got[t] >= low - 1e-9 && got[t] <= high + 1e-9, "a weighted mean stays in range");
      }
    },
  ));
});

Deno.test("meanTrajectory: step-wise mean, as long as the shortest", () => {
  assert.deepEqual(meanTrajectory([[1, 2, 3], [3, 4]]), [2, 3]);
  assert.equal(meanTrajectory([]), null);
});

Deno.test("predictedGain: random mean − optimised, null when either is missing", () => {
  const summary = (optimized: number | null, randomMean: number | null) => ({
    predicted: { optimized, own: null, randomMean },
  });
  assert.equal(predictedGain(summary(1, 1.5) as never), 0.5);
  assert.equal(predictedGain(summary(null, 1.5) as never), null);
  assert.equal(predictedGain({ predicted: null } as never), null);
});

Deno.test("searchPoint: the simulator's rounds, 0-based, with best and current", () => {
  const p = {
    phase: "search",
    step: 12,
    message: "restart 1/4, best objective 0.5",
    details: { restart: 0, round: 11, objective: 0.7, best: 0.5 },
  };
  assert.deepEqual(searchPoint(p), { x: 11, best: 0.5, current: 0.7 });
  assert.equal(searchPoint({ ...p, details: null }), null);
  assert.equal(searchPoint({ ...p, phase: "predict" }), null);
});

Deno.test("searchPoint: a metagradient iteration's objective belongs to the iteration that ended", () => {
  const during = {
    phase: "iteration 3/4",
    step: 3,
    message: "iteration 3/4: reverse step 2/10",
    // During iteration index 2 the objective is still iteration 1's.
    details: { iteration: 2, objective: 1.25 },
  };
  assert.deepEqual(searchPoint(during), { x: 1, best: 1.25, current: null });
  const ended = {
    ...during,
    message: "iteration 3/4: objective 1.10000",
    details: { iteration: 2, objective: 1.1 },
  };
  assert.deepEqual(searchPoint(ended), { x: 2, best: 1.1, current: null });
  // The first iteration has no objective yet (NaN arrives as null).
  const first = { ...during, details: { iteration: 0, objective: null } };
  assert.equal(searchPoint(first), null);
});

Deno.test("storedSearch: thinned traces placed on their rounds, restarts one after another", () => {
  const trace = Array.from({ length: 100 }, (_, i) => 1 - i / 1000);
  const curves = storedSearch({
    rounds: 199,
    restarts: [
      { start: "greedy", startObjective: 1, best: 0.9, trace },
      { start: "random", startObjective: 2, best: 0.95, trace: trace.map((v) => v + 0.1) },
    ],
  });
  assert.deepEqual(curves.map((c) => c.label), [
    "restart 1 (greedy start)",
    "restart 2 (random start)",
  ]);
  assert.equal(curves[1].values.length, 2 * 199);
  // Point k of a trace thinned to 100 is round k·198/99 = 2k.
  assert.equal(curves[0].values[0], 1);
  assert.equal(curves[0].values[2], trace[1]);
  assert.equal(curves[0].values[1], null);
  assert.equal(curves[1].values[199 + 198], trace[99] + 0.1);
  assert.equal(curves[1].values.filter((v) => v !== null).length, 100);
  // Unthinned traces (as many points as rounds) keep their rounds.
  const short = storedSearch({
    rounds: 3,
    restarts: [{ start: "greedy", startObjective: 1, best: 1, trace: [3, 2, 1] }],
  });
  assert.deepEqual(short[0].values, [3, 2, 1]);
  assert.deepEqual(storedSearch({ iterations: [{ objective: 2 }, { objective: 1.5 }] })[0].values, [
    2,
    1.5,
  ]);
});
