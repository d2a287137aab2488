// POST /v1/evaluations/lds: a hand-computed study, a simulator against the score set it came from,
// and the bad inputs (4xx naming the problem, no job queued).
import assert from "node:assert/strict";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import {
  type AppLike,
  finishedJob,
  postJson,
  type RunFixture,
  storeScoreSet,
  uploadRuns,
} from "../simfluence/score_set_fixture.ts";

const TESTS = ["q0", "q1", "q2"];
const TRAIN = ["a", "b", "c"];
/** τ(z, i): q0 a=1 b=2 c=3; q1 every id 1; q2 every id 0. */
const TAU = [[1, 2, 3], [1, 1, 1], [0, 0, 0]];

/**
 * Five runs from L_0 = 2 on every test example. Predicted final loss 2 − Σ τ over the batch
 * entries (r5 trains on a twice):
 *   r1 [a]        q0 1   q1 1   q2 2      observed q0 1.9  q1 1.2  q2 1.5
 *   r2 [b]        q0 0   q1 1   q2 2               q0 1.7  q1 1.4  q2 1.6
 *   r3 [c]        q0 -1  q1 1   q2 2               q0 1.8  q1 1.3  q2 1.7
 *   r4 [a, b]     q0 -1  q1 0   q2 2               q0 1.5  q1 1.6  q2 1.8
 *   r5 [a, c] [a] q0 -3  q1 -1  q2 2               q0 1.0  q1 1.1  q2 1.9
 * q0: ranks predicted [5, 4, 2.5, 2.5, 1], observed [5, 3, 4, 2, 1]: ρ = 8/√95 ≈ 0.8208.
 * q1: ranks predicted [4, 4, 4, 2, 1], observed [2, 4, 3, 5, 1]: ρ = 2/√80 ≈ 0.2236.
 * q2: constant predictions: null, left out. LDS = (8/√95 + 2/√80) / 2 ≈ 0.5222.
 */
const HAND_RUNS: RunFixture[] = [
  { name: "r1", batches: [["a"]], losses: [[2, 2, 2], [1.9, 1.2, 1.5]] },
  { name: "r2", batches: [["b"]], losses: [[2, 2, 2], [1.7, 1.4, 1.6]] },
  { name: "r3", batches: [["c"]], losses: [[2, 2, 2], [1.8, 1.3, 1.7]] },
  { name: "r4", batches: [["a", "b"]], losses: [[2, 2, 2], [1.5, 1.6, 1.8]] },
  {
    name: "r5",
    batches: [["a", "c"], ["a"]],
    losses: [[2, 2, 2], [1.4, 1.5, 1.95], [1.0, 1.1, 1.9]],
  },
];

const RHO0 = 8 / Math.sqrt(95);
const RHO1 = 2 / Math.sqrt(80);

async function lds(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/evaluations/lds", body);
  assert.equal(res.status, 202, await res.clone().text());
  const { job } = await res.json();
  const finished = await finishedJob(app, job);
  assert.equal(finished.status, "succeeded", JSON.stringify(finished));
  assert.equal(finished.kind, "lds");
  return finished.result;
}

async function ldsJobs(app: AppLike): Promise<number> {
  return (await (await app.request("/v1/jobs?kind=lds")).json()).total;
}

Deno.test("evaluations: LDS of a score set on a hand-computed study", async (t) => {
  const ctx = await testApp();
  try {
    const runs = await uploadRuns(ctx.app, "hand", TESTS, HAND_RUNS);
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: TAU });

    await t.step("per-test ρ, the mean and its interval", async () => {
      const result = await lds(ctx.app, { study: "hand", runs, method: { scores } });
      assert.equal(result.study, "hand");
      assert.deepEqual(result.runs, runs);
      assert.deepEqual(result.tests.map((e: { test: string }) => e.test), TESTS);
      assert.ok(Math.abs(result.tests[0].spearman - RHO0) < 1e-9, JSON.stringify(result.tests));
      assert.ok(Math.abs(result.tests[1].spearman - RHO1) < 1e-9);
      assert.equal(result.tests[2].spearman, null);
      assert.equal(result.scoredTests, 2);
      assert.equal(result.constantTests, 1);
      assert.ok(Math.abs(result.lds - (RHO0 + RHO1) / 2) < 1e-9);
      // Over two values the 95 % percentile interval is the two values (see lds.test.ts).
      assert.ok(Math.abs(result.interval.lower - RHO1) < 1e-9);
      assert.ok(Math.abs(result.interval.upper - RHO0) < 1e-9);
      assert.equal(result.interval.confidence, 0.95);
      assert.deepEqual(result.bootstrap, {
        resamples: 1000,
        seed: 0,
        resampled: "test examples",
        method: "percentile",
      });
    });

    await t.step("the order of the runs does not matter", async () => {
      const reordered = [runs[3], runs[0], runs[4], runs[2], runs[1]];
      const result = await lds(ctx.app, { study: "hand", runs: reordered, method: { scores } });
      assert.ok(Math.abs(result.lds - (RHO0 + RHO1) / 2) < 1e-9);
    });
  } finally {
    await ctx.close();
  }
});

const N = 10;
const M = 5;
const trainIds = Array.from({ length: N }, (_, i) => `e${i}`);
const testIds = Array.from({ length: M }, (_, z) => `q${z}`);

/** 9 runs of 10 steps from one additive model, the same L_0, and τ = −B/2 plus a distortion. */
function syntheticStudy() {
  const model = randomModel(21, { n: N, m: M, aMean: 0, aSpread: 0, bMean: -0.01, bSpread: 0.02 });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.1 * z);
  const runs = generateRuns(22, model, { runs: 9, steps: 10, batch: 2, noise: 2e-3, initial });
  const fixtures: RunFixture[] = runs.map((run, r) => ({
    name: `run-${r}`,
    batches: (run.batches as number[][]).map((b) => b.map((i) => trainIds[i])),
    losses: Array.from(
      { length: run.batches.length + 1 },
      (_, t) => Array.from(run.losses.subarray(t * M, (t + 1) * M)),
    ),
  }));
  const tau = testIds.map((_, z) =>
    trainIds.map((_, i) => -model.B[i * M + z] / 2 + 0.004 * Math.cos(3 * i + z))
  );
  return { fixtures, tau };
}

async function simulatorAgainstScoreSet(useGpu: boolean) {
  const gpu = useGpu
    ? gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false })
    : undefined;
  const ctx = await testApp({ gpu });
  try {
    const { fixtures, tau } = syntheticStudy();
    const runs = await uploadRuns(ctx.app, "syn", testIds, fixtures);
    const scores = await storeScoreSet(ctx.store, {
      queries: testIds,
      train: trainIds,
      scores: tau,
    });
    const fit = await postJson(ctx.app, "/v1/simulators", {
      study: "syn",
      kind: "scores",
      trainRuns: runs.slice(0, 3),
      scoreSet: scores,
    });
    assert.equal(fit.status, 202, await fit.clone().text());
    const { simulator, job } = await fit.json();
    assert.equal((await finishedJob(ctx.app, job)).status, "succeeded");
    const sim = await (await ctx.app.request(`/v1/simulators/${simulator.id}`)).json();
    assert.ok(sim.fit.scoreScale > 0, `s = ${sim.fit.scoreScale}`);

    const heldOut = runs.slice(3);
    const bySet = await lds(ctx.app, { study: "syn", runs: heldOut, method: { scores } });
    const bySim = await lds(ctx.app, {
      study: "syn",
      runs: heldOut,
      method: { simulator: simulator.id },
    });
    // Same L_0 on every run and s > 0: L_0 − s·Σ τ ranks runs as L_0 − Σ τ.
    assert.deepEqual(bySim.tests, bySet.tests);
    assert.equal(bySim.lds, bySet.lds);
    assert.deepEqual(bySim.fittingRuns, { ids: [], total: 0 });
    // The one rule for fitting runs: refused (409 naming them) unless allowed, then listed.
    const mixed = { study: "syn", runs: runs.slice(1, 6), method: { simulator: simulator.id } };
    const refused = await postJson(ctx.app, "/v1/evaluations/lds", mixed);
    const error = (await refused.json()).error;
    assert.equal(refused.status, 409, JSON.stringify(error));
    assert.equal(error.code, "fitting_runs");
    assert.equal(error.details.field, "runs");
    assert.deepEqual(error.details.fittingRuns, { ids: runs.slice(1, 3), total: 2 });
    assert.match(error.message, /allowFittingRuns/);
    const withFitting = await lds(ctx.app, { ...mixed, allowFittingRuns: true });
    assert.deepEqual(withFitting.fittingRuns, { ids: runs.slice(1, 3), total: 2 });
    // The same rule on the simulator's own evaluate route.
    const evaluate = `/v1/simulators/${simulator.id}/evaluate`;
    const refusedToo = await postJson(ctx.app, evaluate, { runs: runs.slice(1, 6) });
    const evaluateError = (await refusedToo.json()).error;
    assert.equal(refusedToo.status, 409);
    assert.equal(evaluateError.code, "fitting_runs");
    assert.deepEqual(evaluateError.details.fittingRuns, { ids: runs.slice(1, 3), total: 2 });
    const allowed = await postJson(ctx.app, evaluate, {
      runs: runs.slice(1, 6),
      allowFittingRuns: true,
    });
    assert.equal(allowed.status, 200);
    assert.deepEqual((await allowed.json()).fittingRuns, { ids: runs.slice(1, 3), total: 2 });
    const heldOutOnly = await postJson(ctx.app, evaluate, { runs: heldOut });
    assert.deepEqual((await heldOutOnly.json()).fittingRuns, { ids: [], total: 0 });
    assert.match(bySim.prediction, /rollout/);
    assert.match(bySet.prediction, /τ/);
    // τ is close to the truth, so the held-out ranking is good.
    assert.ok(bySet.lds > 0.5, JSON.stringify(bySet.tests));
    assert.ok(bySet.interval.lower <= bySet.lds && bySet.lds <= bySet.interval.upper);

    // Seeded: the same seed gives the same interval; the resamples are as asked.
    const seeded = { study: "syn", runs: heldOut, method: { scores } };
    const a = await lds(ctx.app, { ...seeded, bootstrap: { resamples: 500, seed: 9 } });
    const b = await lds(ctx.app, { ...seeded, bootstrap: { resamples: 500, seed: 9 } });
    assert.deepEqual(a.interval, b.interval);
    assert.equal(a.bootstrap.resamples, 500);
    assert.equal(a.bootstrap.seed, 9);
  } finally {
    await ctx.close();
  }
}

Deno.test(
  "evaluations: a scores simulator ranks runs as the score set it was fitted from",
  () => simulatorAgainstScoreSet(false),
);

Deno.test(
  "evaluations: on the GPU too, a scores simulator ranks runs as its score set",
  gpuTest,
  () => simulatorAgainstScoreSet(true),
);

Deno.test("evaluations: bad LDS requests are 4xx naming the problem and queue nothing", async (t) => {
  const ctx = await testApp();
  try {
    const runs = await uploadRuns(ctx.app, "hand", TESTS, HAND_RUNS);
    const [otherRun] = await uploadRuns(ctx.app, "other", TESTS, [HAND_RUNS[0]]);
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: TAU });
    const noC = await storeScoreSet(ctx.store, {
      queries: TESTS,
      train: ["a", "b"],
      scores: TAU.map((row) => row.slice(0, 2)),
    });
    const skipped = await storeScoreSet(ctx.store, {
      queries: TESTS,
      train: TRAIN,
      scores: [[1, 2, 3], [1, null, 1], [0, 0, 0]],
    });
    const self = await storeScoreSet(ctx.store, {
      mode: "self",
      queries: [],
      train: TRAIN,
      scores: [[1, 2, 3]],
    });
    const running = await storeScoreSet(ctx.store, {
      queries: TESTS,
      train: TRAIN,
      scores: TAU,
      running: true,
    });
    const fit = await postJson(ctx.app, "/v1/simulators", {
      study: "other",
      kind: "scores",
      trainRuns: [otherRun],
      scores: { q0: { a: 1 } },
    });
    assert.equal(fit.status, 202);
    const { simulator: otherSim, job } = await fit.json();
    await finishedJob(ctx.app, job);

    const ok = { study: "hand", runs, method: { scores } };
    const bad: [string, Record<string, unknown>, number, RegExp][] = [
      ["too few runs", { ...ok, runs: runs.slice(0, 4) }, 400, /runs/],
      ["unknown study", { ...ok, study: "nope" }, 404, /nope/],
      ["unknown run", { ...ok, runs: [...runs.slice(0, 4), "ghost"] }, 400, /runs\.4.*ghost/],
      [
        "a run of another study",
        { ...ok, runs: [otherRun, ...runs.slice(1)] },
        400,
        /runs\.0.*belongs to study \\"other\\"/,
      ],
      ["a run listed twice", { ...ok, runs: [...runs, runs[2]] }, 400, /runs\.5.*already listed/],
      ["ids absent from the score set", { ...ok, method: { scores: noC } }, 400, /q0 × c/],
      ["a pair a filter skipped", { ...ok, method: { scores: skipped } }, 400, /q1 × b/],
      ["a self-influence score set", { ...ok, method: { scores: self } }, 400, /self-influence/],
      ["an unknown score set", { ...ok, method: { scores: "nothing" } }, 404, /nothing/],
      ["a score set not ready", { ...ok, method: { scores: running } }, 409, /running/],
      [
        "a simulator of another study",
        { ...ok, method: { simulator: otherSim.id } },
        400,
        /method\.simulator.*study \\"other\\"/,
      ],
      ["an unknown simulator", { ...ok, method: { simulator: "nope-sim" } }, 404, /nope-sim/],
      ["two methods", { ...ok, method: { scores, simulator: otherSim.id } }, 400, /method/],
      ["resamples out of range", { ...ok, bootstrap: { resamples: 5 } }, 400, /resamples/],
    ];
    const before = await ldsJobs(ctx.app);
    for (const [what, body, status, pattern] of bad) {
      await t.step(what, async () => {
        const res = await postJson(ctx.app, "/v1/evaluations/lds", body);
        const text = await res.text();
        assert.equal(res.status, status, text);
        assert.match(text, pattern);
      });
    }
    assert.equal(await ldsJobs(ctx.app), before);
    // The coverage error counts what is missing: c for every test example.
    const res = await postJson(ctx.app, "/v1/evaluations/lds", { ...ok, method: { scores: noC } });
    const details = (await res.json()).error.details;
    assert.equal(details.field, "method.scores");
    assert.deepEqual(details.missing, { ids: ["q0 × c", "q1 × c", "q2 × c"], total: 3 });
  } finally {
    await ctx.close();
  }
});
