// POST /v1/evaluations/lds with baseRun (the single-model LDS, MATH.md §7): uploaded mask runs that
// carry data weights, a score set whose predictions (base final loss + the dropped ids' scores,
// each id once) are computed by hand, and the 400s for runs that are not mask runs of the base.
import assert from "node:assert/strict";
import { testApp } from "../helpers/app.ts";
import {
  type AppLike,
  finishedJob,
  postJson,
  storeScoreSet,
} from "../simfluence/score_set_fixture.ts";

const TESTS = ["q0", "q1"];
const TRAIN = ["a", "b", "c", "d", "e"];
/** The base run's batches: "a" is in both steps. */
const BATCHES = [["a", "b", "c"], ["d", "e", "a"]];
const BASE_FINAL = [1.0, 1.5];
/** score(z, i) (positive: the example lowers z's loss), rows q0, q1, columns a..e. */
const SCORES = [[0.2, 0.1, 0.3, 0.2, 0.05], [-0.1, 0.2, 0, 0.3, 0.1]];

/**
 * Six mask runs, the ids each drops, and the observed final losses. Predicted = base final + Σ
 * scores of the dropped ids:
 *   m1 {a}    q0 1.20  q1 1.40      observed q0 1.22  q1 1.41
 *   m2 {b}    q0 1.10  q1 1.70               q0 1.08  q1 1.72
 *   m3 {c}    q0 1.30  q1 1.50               q0 1.31  q1 1.55   (q1: swapped with m6)
 *   m4 {d, e} q0 1.25  q1 1.90               q0 1.30  q1 1.95
 *   m5 {b, e} q0 1.15  q1 1.80               q0 1.12  q1 1.81
 *   m6 {e}    q0 1.05  q1 1.60               q0 1.01  q1 1.50
 * q0: the predictions order the runs exactly, ρ = 1. Counting "a" once per occurrence (twice)
 * would predict m1 1.40, the highest, and break that order.
 * q1: predicted ranks [1, 4, 2, 6, 5, 3], observed [1, 4, 3, 6, 5, 2]: Σd² = 2, ρ = 1 − 12/210.
 */
const MASKS: { name: string; drop: string[]; final: number[] }[] = [
  { name: "m1", drop: ["a"], final: [1.22, 1.41] },
  { name: "m2", drop: ["b"], final: [1.08, 1.72] },
  { name: "m3", drop: ["c"], final: [1.31, 1.55] },
  { name: "m4", drop: ["d", "e"], final: [1.3, 1.95] },
  { name: "m5", drop: ["b", "e"], final: [1.12, 1.81] },
  { name: "m6", drop: ["e"], final: [1.01, 1.5] },
];
const RHO1 = 1 - 12 / 210;

interface Upload {
  name: string;
  steps: { batch: string[]; weights?: number[] }[];
  final: number[];
}

async function upload(app: AppLike, study: string, run: Upload): Promise<string> {
  const res = await postJson(app, "/v1/runs", {
    study,
    name: run.name,
    testExamples: TESTS,
    steps: run.steps,
    losses: [[2, 2], ...run.steps.slice(1).map(() => [1.6, 1.8]), run.final],
  });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()).id;
}

/** The base run's steps with `drop` weighted 0 (every occurrence). */
const masked = (drop: readonly string[]) =>
  BATCHES.map((batch) => ({ batch, weights: batch.map((id) => drop.includes(id) ? 0 : 1) }));

async function ldsResult(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/evaluations/lds", body);
  assert.equal(res.status, 202, await res.clone().text());
  const { evaluation, job } = await res.json();
  const finished = await finishedJob(app, job);
  assert.equal(finished.status, "succeeded", JSON.stringify(finished));
  return { evaluation, result: finished.result };
}

async function refused(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/evaluations/lds", body);
  return { status: res.status, error: (await res.json()).error };
}

Deno.test("evaluations: LDS over mask runs of a base run (baseRun)", async (t) => {
  const ctx = await testApp();
  try {
    const study = "mask";
    const base = await upload(ctx.app, study, {
      name: "base",
      steps: BATCHES.map((batch) => ({ batch })),
      final: BASE_FINAL,
    });
    const runs: string[] = [];
    for (const m of MASKS) {
      runs.push(
        await upload(ctx.app, study, { name: m.name, steps: masked(m.drop), final: m.final }),
      );
    }
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: SCORES });

    await t.step(
      "a score set predicts base final + the dropped ids' scores, each once",
      async () => {
        const { evaluation, result } = await ldsResult(ctx.app, {
          study,
          runs,
          baseRun: base,
          method: { scores },
        });
        assert.equal(evaluation.baseRun, base);
        assert.equal(result.baseRun, base);
        assert.match(result.prediction, /dropped/);
        assert.equal(result.tests[0].spearman, 1);
        assert.ok(Math.abs(result.tests[1].spearman - RHO1) < 1e-12, JSON.stringify(result.tests));
        assert.ok(Math.abs(result.lds - (1 + RHO1) / 2) < 1e-12);
        const kept = await (await ctx.app.request(`/v1/evaluations/${evaluation.id}`)).json();
        assert.equal(kept.status, "ready");
        assert.equal(kept.baseRun, base);
        assert.ok(Math.abs(kept.lds - (1 + RHO1) / 2) < 1e-12);
      },
    );

    await t.step("the base run may be named, and is null without baseRun", async () => {
      const named = await ldsResult(ctx.app, { study, runs, baseRun: "base", method: { scores } });
      assert.equal(named.result.baseRun, base);
      const plain = await ldsResult(ctx.app, { study, runs, method: { scores } });
      assert.equal(plain.result.baseRun, null);
      assert.equal(plain.evaluation.baseRun, null);
    });

    await t.step("a simulator rolls out each run's curriculum, as without baseRun", async () => {
      const fit = await postJson(ctx.app, "/v1/simulators", {
        study,
        kind: "scores",
        scoreSet: scores,
        trainRuns: [base],
      });
      assert.equal(fit.status, 202, await fit.clone().text());
      const { simulator, job } = await fit.json();
      assert.equal((await finishedJob(ctx.app, job)).status, "succeeded");
      const method = { simulator: simulator.id };
      const masked = await ldsResult(ctx.app, { study, runs, baseRun: base, method });
      const plain = await ldsResult(ctx.app, { study, runs, method });
      assert.equal(masked.result.baseRun, base);
      assert.match(masked.result.prediction, /rollout/);
      assert.ok(masked.result.tests.some((e: { spearman: number | null }) => e.spearman !== null));
      assert.deepEqual(masked.result.tests, plain.result.tests);
      assert.equal(masked.result.lds, plain.result.lds);
    });

    await t.step("runs that are not mask runs of the base are 400s naming them", async () => {
      const bad: [string, Upload, RegExp][] = [
        ["other batch", {
          name: "x1",
          steps: [{ batch: ["a", "b", "d"] }, { batch: BATCHES[1] }],
          final: [1, 1],
        }, /step 0 has another batch/],
        ["fewer steps", { name: "x2", steps: [{ batch: BATCHES[0] }], final: [1, 1] }, /1 steps/],
        [
          "a weight other than 0",
          {
            name: "x3",
            steps: [{ batch: BATCHES[0], weights: [1, 0.5, 1] }, { batch: BATCHES[1] }],
            final: [1, 1],
          },
          /weighs "b" 0.5/,
        ],
        [
          "an id dropped at one step and kept at another",
          {
            name: "x4",
            steps: [{ batch: BATCHES[0], weights: [0, 1, 1] }, { batch: BATCHES[1] }],
            final: [1, 1],
          },
          /"a" is dropped at some of its steps/,
        ],
      ];
      for (const [what, run, message] of bad) {
        const id = await upload(ctx.app, study, { ...run, steps: run.steps, final: run.final });
        const { status, error } = await refused(ctx.app, {
          study,
          runs: [...runs.slice(0, 4), id],
          baseRun: base,
          method: { scores },
        });
        assert.equal(status, 400, what);
        assert.equal(error.details.field, "runs.4", what);
        assert.equal(error.details.run, id, what);
        assert.equal(error.code, "not_a_mask_run", what);
        assert.match(error.message, message, what);
        assert.match(error.message, new RegExp(id), what);
      }
    });

    await t.step(
      "an unknown base run, or one of another study, is a 400 naming baseRun",
      async () => {
        const other = await upload(ctx.app, "other", {
          name: "base",
          steps: BATCHES.map((batch) => ({ batch })),
          final: BASE_FINAL,
        });
        for (const baseRun of ["ghost", other]) {
          const { status, error } = await refused(ctx.app, {
            study,
            runs,
            baseRun,
            method: { scores },
          });
          assert.equal(status, 400);
          assert.equal(error.details.field, "baseRun");
        }
      },
    );

    await t.step("a score set lacking a dropped id is a 400 naming method.scores", async () => {
      const partial = await storeScoreSet(ctx.store, {
        queries: TESTS,
        train: ["a", "b", "c", "d"],
        scores: SCORES.map((row) => row.slice(0, 4)),
      });
      const { status, error } = await refused(ctx.app, {
        study,
        runs,
        baseRun: base,
        method: { scores: partial },
      });
      assert.equal(status, 400);
      assert.equal(error.details.field, "method.scores");
      assert.match(error.message, /× e/);
    });
  } finally {
    await ctx.close();
  }
});
