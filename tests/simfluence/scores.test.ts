import assert from "node:assert/strict";
import { toCurriculum } from "../../src/simfluence/math/curriculum.ts";
import { rankInfluence } from "../../src/simfluence/math/ranking.ts";
import { fitScoresSimulator } from "../../src/simfluence/math/scores.ts";
import { rolloutCpu } from "../../src/simfluence/math/reference/simulate.ts";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import type { Run, SimulatorParams } from "../../src/simfluence/math/types.ts";

const n = 10;
const m = 4;
const universe = {
  trainIds: Array.from({ length: n }, (_, i) => `i${i}`),
  testIds: Array.from({ length: m }, (_, z) => `z${z}`),
};

function additiveRuns(noise: number): { B: Float32Array; runs: Run[] } {
  const model = randomModel(7, { n, m, aMean: 0, aSpread: 0, bMean: -0.01, bSpread: 0.02 });
  const initial = new Float32Array(m).fill(2);
  return {
    B: model.B,
    runs: generateRuns(8, model, { runs: 4, steps: 15, batch: 3, noise, initial }),
  };
}

Deno.test("scores simulator recovers the scale of exact scores on noiseless additive runs", () => {
  const { B, runs } = additiveRuns(0);
  const s = 2.5;
  const scores = B.map((b) => -b / s); // so that B = -s·I
  const fit = fitScoresSimulator(universe, runs, scores);
  assert.ok(Math.abs(fit.params.scoreScale! - s) < 1e-4, `s = ${fit.params.scoreScale}`);
  assert.ok(fit.transitionMse < 1e-10);
  assert.ok(fit.params.A.every((a) => a === 0));
  // test-major input is the same scores transposed
  const transposed = new Float32Array(n * m);
  for (let i = 0; i < n; i++) for (let z = 0; z < m; z++) transposed[z * n + i] = scores[i * m + z];
  const again = fitScoresSimulator(universe, runs, transposed, "test-major");
  assert.equal(again.params.scoreScale, fit.params.scoreScale);
});

Deno.test("scores scale is the least-squares optimum on noisy runs", () => {
  const { B, runs } = additiveRuns(0.01);
  const scores = B.map((b, k) => b * (k % 3 === 0 ? 1 : -0.5)); // poor scores, any sign
  const fit = fitScoresSimulator(universe, runs, scores);
  const oneStepSse = (scale: number) => {
    let sse = 0;
    const zs = Array.from({ length: m }, (_, z) => z);
    const sim = { n, m, A: new Float32Array(n * m), B: scores.map((v) => -scale * v) };
    for (const run of runs) {
      const cur = toCurriculum(run.batches, n);
      for (let t = 0; t < cur.steps; t++) {
        const one = {
          steps: 1,
          stepPtr: Uint32Array.of(0, cur.stepPtr[t + 1] - cur.stepPtr[t]),
          indices: cur.indices.subarray(cur.stepPtr[t], cur.stepPtr[t + 1]),
          counts: cur.counts.subarray(cur.stepPtr[t], cur.stepPtr[t + 1]),
        };
        const pred = rolloutCpu(sim, one, run.losses.subarray(t * m, (t + 1) * m), zs);
        for (let z = 0; z < m; z++) sse += (pred[m + z] - run.losses[(t + 1) * m + z]) ** 2;
      }
    }
    return sse;
  };
  const s = fit.params.scoreScale!;
  const best = oneStepSse(s);
  assert.ok(best < oneStepSse(s * 1.05) && best < oneStepSse(s * 0.95));
  assert.ok(Math.abs(best / (runs.length * 15 * m) - fit.transitionMse) < 1e-6);
  assert.throws(() => fitScoresSimulator(universe, runs, scores.subarray(1)), /expected/);
});

Deno.test("influence ranking orders by net one-step effect and skips unseen ids", () => {
  const sim: SimulatorParams = {
    kind: "linear",
    n: 5,
    m: 1,
    A: Float32Array.of(-0.1, 0, 0.05, -0.3, 0.2),
    B: Float32Array.of(0.1, -0.05, 0, 0, 0.1),
    unseen: [3],
    meanLoss: Float32Array.of(2),
    lambdaFactor: 1e-2,
    scoreScale: null,
  };
  // net at L̄ = 2: -0.1, -0.05, 0.1, (unseen), 0.5
  const r = rankInfluence(sim, 0);
  assert.deepEqual(r.helpful.map((e) => e.index), [0, 1]);
  assert.deepEqual(r.harmful.map((e) => e.index), [4, 2]);
  assert.ok(Math.abs(r.helpful[0].net - -0.1) < 1e-7);
  assert.equal(r.unseen, 1);
  const atOne = rankInfluence(sim, 0, { typicalLoss: 1, topK: 1 });
  // net at 1: 0, -0.05, 0.05, 0.3
  assert.deepEqual(atOne.helpful.map((e) => e.index), [1]);
  assert.deepEqual(atOne.harmful.map((e) => e.index), [4]);
  assert.throws(() => rankInfluence(sim, 1), /outside/);
});
