// Kind "scores" simulators from a stored influence score set (`scoreSet`), against the inline form.
import assert from "node:assert/strict";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import { testApp } from "../helpers/app.ts";
import {
  type AppLike,
  finishedJob,
  postJson,
  type RunFixture,
  storeScoreSet,
  uploadRuns,
} from "./score_set_fixture.ts";

const N = 9;
const M = 4;
const trainIds = Array.from({ length: N }, (_, i) => `e${i}`);
const testIds = Array.from({ length: M }, (_, z) => `q${z}`);

/** 6 runs of 12 steps (batches of 2) from a known additive model. */
function studyRuns(): RunFixture[] {
  const model = randomModel(11, { n: N, m: M, aMean: 0, aSpread: 0, bMean: -0.01, bSpread: 0.02 });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.1 * z);
  const runs = generateRuns(12, model, { runs: 6, steps: 12, batch: 2, noise: 1e-3, initial });
  return runs.map((run, r) => ({
    name: `run-${r}`,
    batches: (run.batches as number[][]).map((b) => b.map((i) => trainIds[i])),
    losses: Array.from(
      { length: run.batches.length + 1 },
      (_, t) => Array.from(run.losses.subarray(t * M, (t + 1) * M)),
    ),
  }));
}

/** An odd-looking but deterministic score for every pair. */
const tau = (z: number, i: number) => Math.sin(1.3 * i + 0.7 * z + 0.2) * 0.01;

/** The ids the first `count` runs train on. */
function usedIds(runs: RunFixture[], count: number): Set<string> {
  return new Set(runs.slice(0, count).flatMap((r) => r.batches.flat()));
}

async function fitScores(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/simulators", { study: "s", kind: "scores", ...body });
  assert.equal(res.status, 202, await res.clone().text());
  const { simulator, job } = await res.json();
  const finished = await finishedJob(app, job);
  assert.equal(finished.status, "succeeded", JSON.stringify(finished));
  return await (await app.request(`/v1/simulators/${simulator.id}`)).json();
}

async function simulate(app: AppLike, id: string, curriculum: string[][]) {
  const res = await postJson(app, `/v1/simulators/${id}/simulate`, {
    curriculum,
    initialLosses: Object.fromEntries(testIds.map((q) => [q, 2])),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).trajectories as Record<string, number[]>;
}

Deno.test("simulators: a stored score set fits the same scale as the same scores inline", async (t) => {
  const ctx = await testApp();
  try {
    const fixtures = studyRuns();
    const runIds = await uploadRuns(ctx.app, "s", testIds, fixtures);
    // The score set holds the study's pairs plus an extra query and an extra training id (the
    // extras are ignored), in an order unlike the study's.
    const queries = ["q-extra", ...[...testIds].reverse()];
    const train = [...trainIds].reverse().concat("t-extra");
    const scoreSet = await storeScoreSet(ctx.store, {
      queries,
      train,
      scores: queries.map((q) =>
        train.map((id) =>
          q === "q-extra" || id === "t-extra" ? 5 : tau(testIds.indexOf(q), trainIds.indexOf(id))
        )
      ),
    });
    const inline = Object.fromEntries(
      testIds.map((q, z) => [q, Object.fromEntries(trainIds.map((id, i) => [id, tau(z, i)]))]),
    );
    const fitting = runIds.slice(0, 4);

    await t.step("same scale, same B, same simulations", async () => {
      const fromSet = await fitScores(ctx.app, { trainRuns: fitting, scoreSet });
      const fromInline = await fitScores(ctx.app, { trainRuns: fitting, scores: inline });
      assert.equal(fromSet.status, "ready");
      assert.equal(fromSet.fit.scoreSet, scoreSet);
      assert.equal(fromSet.fit.zeroFilledPairs, 0);
      assert.equal(typeof fromSet.fit.scoreScale, "number");
      assert.notEqual(fromSet.fit.scoreScale, 0);
      assert.equal(fromSet.fit.scoreScale, fromInline.fit.scoreScale);
      assert.equal(fromSet.fit.transitionMse, fromInline.fit.transitionMse);
      const curriculum = [["e0", "e3"], ["e8"], ["e5", "e5", "e1"]];
      assert.deepEqual(
        await simulate(ctx.app, fromSet.id, curriculum),
        await simulate(ctx.app, fromInline.id, curriculum),
      );
      // …and it ranks and evaluates like any other simulator.
      const ranked = await ctx.app.request(`/v1/simulators/${fromSet.id}/influence?test=q2&top=3`);
      assert.equal(ranked.status, 200);
      const evaluated = await postJson(ctx.app, `/v1/simulators/${fromSet.id}/evaluate`, {
        runs: [runIds[5]],
      });
      assert.equal(evaluated.status, 200);
      assert.equal((await evaluated.json()).runs.length, 1);
    });

    await t.step(
      "pairs the fitting runs need that the set lacks: 400, or 0 when asked",
      async () => {
        // e2 absent from the training ids, q1 absent from the queries, (q3, e4) skipped by a filter.
        const used = usedIds(fixtures, 4);
        assert.ok(used.has("e2") && used.has("e4"), "the fitting runs train on e2 and e4");
        const lacking = await storeScoreSet(ctx.store, {
          queries: ["q0", "q2", "q3"],
          train: trainIds.filter((id) => id !== "e2"),
          scores: ["q0", "q2", "q3"].map((q) =>
            trainIds.filter((id) => id !== "e2").map((id) =>
              q === "q3" && id === "e4" ? null : tau(testIds.indexOf(q), trainIds.indexOf(id))
            )
          ),
        });
        // q1 × every used id, e2 × the other three queries, and (q3, e4).
        const expected = used.size + 3 + 1;
        const before = (await (await ctx.app.request("/v1/simulators")).json()).total;
        const res = await postJson(ctx.app, "/v1/simulators", {
          study: "s",
          kind: "scores",
          trainRuns: fitting,
          scoreSet: lacking,
        });
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.error.details.field, "scoreSet");
        assert.equal(body.error.details.missing.total, expected);
        assert.ok(body.error.details.missing.ids.includes("q0 × e2"));
        assert.ok(body.error.details.missing.ids.includes("q1 × e0"));
        assert.ok(body.error.details.missing.ids.includes("q3 × e4"));
        assert.match(body.error.message, new RegExp(`lacks ${expected} `));
        assert.equal((await (await ctx.app.request("/v1/simulators")).json()).total, before);

        const zeroed = await fitScores(ctx.app, {
          trainRuns: fitting,
          scoreSet: lacking,
          missing: "zero",
        });
        assert.equal(zeroed.fit.zeroFilledPairs, expected);
        // Inline scores without those pairs count them as 0 too: the same fit.
        const partial = Object.fromEntries(
          ["q0", "q2", "q3"].map((q) => [
            q,
            Object.fromEntries(
              trainIds.filter((id) => id !== "e2" && !(q === "q3" && id === "e4"))
                .map((id) => [id, tau(testIds.indexOf(q), trainIds.indexOf(id))]),
            ),
          ]),
        );
        const inlinePartial = await fitScores(ctx.app, { trainRuns: fitting, scores: partial });
        assert.equal(zeroed.fit.scoreScale, inlinePartial.fit.scoreScale);
      },
    );

    await t.step("bad score-set requests are 4xx naming the field, storing nothing", async () => {
      const self = await storeScoreSet(ctx.store, {
        mode: "self",
        queries: [],
        train: trainIds,
        scores: [trainIds.map(() => 1)],
      });
      const running = await storeScoreSet(ctx.store, {
        queries: testIds,
        train: trainIds,
        scores: testIds.map(() => trainIds.map(() => 1)),
        running: true,
      });
      const base = { study: "s", trainRuns: fitting };
      const bad: [Record<string, unknown>, number, RegExp][] = [
        [{ ...base, kind: "scores", scoreSet: self }, 400, /self-influence/],
        [{ ...base, kind: "scores", scoreSet: "no-such-set" }, 404, /no-such-set/],
        [{ ...base, kind: "scores", scoreSet: running }, 409, /running/],
        [{ ...base, kind: "scores", scoreSet, scores: inline }, 400, /not both/],
        [{ ...base, kind: "scores", scores: inline, missing: "zero" }, 400, /`missing`/],
        [{ ...base, kind: "scores", scoreSet, missing: "maybe" }, 400, /missing/],
        [{ ...base, kind: "linear", scoreSet }, 400, /`scoreSet` is only for kind/],
        [{ ...base, kind: "scores" }, 400, /needs `scores` or `scoreSet`/],
      ];
      const before = (await (await ctx.app.request("/v1/simulators")).json()).total;
      for (const [body, status, pattern] of bad) {
        const res = await postJson(ctx.app, "/v1/simulators", body);
        const text = await res.text();
        assert.equal(res.status, status, text);
        assert.match(text, pattern);
      }
      assert.equal((await (await ctx.app.request("/v1/simulators")).json()).total, before);
    });
  } finally {
    await ctx.close();
  }
});
