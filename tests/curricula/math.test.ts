// The optimisation's arithmetic on the CPU: the batched rollout against the float64 reference
// rollout (simulateCpu) for many candidates at once, masks and batch orders included; the
// projection onto the budget; and the seeded bootstrap of the observed improvement.
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  rolloutBatch,
  rolloutProblem,
  rolloutTrajectory,
} from "../../src/curricula/batched_rollout.ts";
import { objectiveOf, objectiveTrajectory, randomSubset } from "../../src/curricula/curriculum.ts";
import { projectOntoBudget } from "../../src/curricula/metagradient_method.ts";
import type { Setting } from "../../src/curricula/setting.ts";
import { improvementInterval } from "../../src/curricula/verify.ts";
import { seededNormal, seededUniform } from "../../src/random.ts";
import { simulateCpu } from "../../src/simfluence/math/reference/simulate.ts";
import type { SimulatorParams } from "../../src/simfluence/math/types.ts";
import type { StoredRun } from "../../src/runs/run_store.ts";

/** A setting over a base run of T batches drawn from n ids, m tests, objective on `columns`. */
function fixture(seed: number, n: number, m: number, T: number, columns: number[]) {
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const pool = Array.from({ length: n }, (_, i) => `e${i}`);
  const steps = Array.from({ length: T }, () => ({
    batch: Array.from(
      { length: 1 + Math.floor(uniform() * 4) },
      () => pool[Math.floor(uniform() * n)],
    ),
  }));
  const testIds = Array.from({ length: m }, (_, z) => `q${z}`);
  const losses = new Float32Array((T + 1) * m).map(() => 2 + uniform());
  const base = {
    id: "base",
    run: { study: "s", name: "base", testExamples: testIds, steps, losses },
  } as unknown as StoredRun;
  const raw = columns.map(() => 0.5 + uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  const used = new Set(steps.flatMap((s) => s.batch));
  const setting: Setting = {
    study: "s",
    testIds,
    objective: {
      tests: columns.map((z) => testIds[z]),
      columns,
      weights: raw.map((w) => w / total),
      at: "final",
    },
    base,
    pool: pool.filter((id) => used.has(id)),
    keep: new Set(),
    exclude: new Set(),
    keepCount: 1,
  };
  // The simulator knows the ids in another order, and one extra id the pool lacks.
  const simTrain = [...pool].reverse().concat(["extra"]);
  const params: SimulatorParams = {
    kind: "linear",
    n: simTrain.length,
    m,
    A: Float32Array.from({ length: simTrain.length * m }, () => 0.02 * normal()),
    B: Float32Array.from({ length: simTrain.length * m }, () => 0.05 * normal()),
    unseen: [],
    meanLoss: new Float32Array(m),
    lambdaFactor: 1,
    scoreScale: null,
  };
  return { setting, sim: { params, trainIds: simTrain, testIds }, uniform };
}

Deno.test("the batched rollout equals the float64 reference rollout of each candidate", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 1e6 }),
      fc.integer({ min: 3, max: 17 }),
      fc.integer({ min: 1, max: 7 }),
      fc.integer({ min: 1, max: 13 }),
      fc.constantFrom<"final" | "mean">("final", "mean"),
      (seed, n, m, T, at) => {
        const columns = Array.from({ length: m }, (_, z) => z).filter((z) =>
          z % 2 === 0 || z === m - 1
        );
        const { setting, sim, uniform } = fixture(seed, n, m, T, columns);
        setting.objective.at = at;
        const initial = setting.base.run.losses.subarray(0, m);
        const p = rolloutProblem(setting, sim, initial);
        const candidates = Array.from({ length: 9 }, () => {
          const mask = Uint8Array.from(setting.pool, () => (uniform() < 0.6 ? 1 : 0));
          const order = Int32Array.from({ length: T }, (_, t) => t);
          for (let k = T - 1; k > 0; k--) {
            const j = Math.floor(uniform() * (k + 1));
            [order[k], order[j]] = [order[j], order[k]];
          }
          return { mask, order };
        });
        const batched = rolloutBatch(p, candidates);
        const index = new Map(sim.trainIds.map((id, i) => [id, i]));
        candidates.forEach((c, k) => {
          const kept = new Set(setting.pool.filter((_, i) => c.mask[i] === 1));
          const batches = Array.from(
            c.order,
            (b) =>
              setting.base.run.steps[b].batch.filter((id) => kept.has(id)).map((id) =>
                index.get(id)!
              ),
          );
          const reference = simulateCpu(sim.params, { batches, initialLosses: initial });
          const expected = objectiveOf(
            setting.objective,
            objectiveTrajectory(setting.objective, reference, m),
          );
          // The reference rounds each step to float32; the batched rollout stays in float64.
          assert.ok(
            Math.abs(batched[k] - expected) <= 1e-5 * Math.max(1, Math.abs(expected)),
            `${batched[k]} vs ${expected}`,
          );
          const { objective, trajectory } = rolloutTrajectory(p, c);
          assert.equal(objective, batched[k]);
          assert.equal(trajectory.length, T + 1);
        });
      },
    ),
    { numRuns: 60, seed: 7 },
  );
});

Deno.test("projection onto the budget: in [0, 1], sums to the budget, and is the closest such point", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 2, maxLength: 40 }),
      fc.double({ min: 0.05, max: 0.95, noNaN: true }),
      (values, share) => {
        const v = Float64Array.from(values);
        const total = Math.max(1, Math.round(share * v.length));
        const w = projectOntoBudget(v, total);
        assert.ok(w.every((x) => x >= 0 && x <= 1));
        assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - total) < 1e-8);
        // KKT: w_i = clip(v_i − θ) for one θ, so v_i − w_i is the same wherever 0 < w_i < 1.
        const shifts = [...w].flatMap((x, i) => (x > 1e-9 && x < 1 - 1e-9 ? [v[i] - x] : []));
        for (const s of shifts) assert.ok(Math.abs(s - shifts[0]) < 1e-7);
      },
    ),
    { numRuns: 200, seed: 3 },
  );
});

Deno.test("the bootstrap interval is seeded, holds the improvement, and excludes 0 only when it should", () => {
  const { setting } = fixture(5, 10, 4, 3, [0, 1, 2, 3]);
  const m = 4;
  const runOf = (final: number[], spread = 0) => {
    const losses = new Float32Array(2 * m).fill(3);
    final.forEach((x, z) => (losses[m + z] = x + spread));
    return losses;
  };
  const optimized = runOf([1.0, 1.1, 0.9, 1.0]);
  const random = Array.from({ length: 8 }, (_, r) => runOf([1.5, 1.4, 1.6, 1.5], 0.05 * (r - 4)));
  const options = { resamples: 2000, seed: 11, confidence: 0.95 };
  const a = improvementInterval(setting, optimized, random, options);
  const b = improvementInterval(setting, optimized, random, options);
  assert.deepEqual(a, b);
  for (const interval of [a.interval, a.overTests]) {
    assert.ok(interval.lower <= a.improvement && a.improvement <= interval.upper);
    assert.ok(interval.lower > 0);
  }
  // The optimised run in the middle of the random ones: both intervals straddle 0.
  const tied = improvementInterval(setting, random[4], random, options);
  for (const interval of [tied.interval, tied.overTests]) {
    assert.ok(interval.lower < 0 && interval.upper > 0, JSON.stringify(tied));
  }
});

Deno.test("random subsets honour the budget, keep and exclude, and are seeded", () => {
  const { setting } = fixture(9, 12, 2, 12, [0]);
  setting.keep = new Set([setting.pool[0]]);
  setting.exclude = new Set([setting.pool[1]]);
  setting.keepCount = Math.floor(setting.pool.length / 2);
  const a = randomSubset(setting, 4, 0);
  assert.equal(a.length, setting.keepCount);
  assert.ok(a.includes(setting.pool[0]) && !a.includes(setting.pool[1]));
  assert.deepEqual(randomSubset(setting, 4, 0), a);
  assert.notDeepEqual(randomSubset(setting, 4, 1), a);
});

Deno.test("stepEffect mean: each step's sums scaled by p̄ over the entries it keeps", () => {
  const { setting, sim } = fixture(21, 6, 2, 4, [0, 1]);
  const initial = setting.base.run.losses.subarray(0, 2);
  const plain = rolloutProblem(setting, sim, initial);
  const all = { mask: new Uint8Array(setting.pool.length).fill(1), order: [0, 1, 2, 3] };
  const scaled = rolloutProblem(setting, sim, initial, 2);
  const { trajectory } = rolloutTrajectory(scaled, all);
  const { trajectory: reference } = rolloutTrajectory(plain, all);
  assert.equal(trajectory[0], reference[0]);
  // Recompute by hand: L_t = (1 + (2/p_t)·ΣA)·L_{t−1} + (2/p_t)·ΣB, on the objective's weights.
  const index = new Map(sim.trainIds.map((id, i) => [id, i]));
  const l = Array.from(initial, Number);
  for (let t = 0; t < 4; t++) {
    const batch = setting.base.run.steps[t].batch;
    const scale = 2 / batch.length;
    for (let z = 0; z < 2; z++) {
      let a = 0, b = 0;
      for (const id of batch) {
        a += sim.params.A[index.get(id)! * 2 + z];
        b += sim.params.B[index.get(id)! * 2 + z];
      }
      l[z] = (1 + scale * a) * l[z] + scale * b;
    }
    const w = setting.objective.weights;
    assert.ok(Math.abs(trajectory[t + 1] - (w[0] * l[0] + w[1] * l[1])) < 1e-12);
  }
});
