// Kept LDS evaluations: POST /v1/evaluations/lds keeps a record that its job completes; GET
// /v1/evaluations lists them (paged, by study), GET and DELETE /v1/evaluations/:id show and delete
// one (cancelling its job if it still runs), and deleting a study deletes its evaluations.
import assert from "node:assert/strict";
import { EVALUATIONS } from "../../src/evaluations/store.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";
import { testApp } from "../helpers/app.ts";
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
const TAU = [[1, 2, 3], [1, 1, 1], [0, 0, 0]];
/** The hand-computed study of http.test.ts: ρ(q0) = 8/√95, ρ(q1) = 2/√80, q2 constant. */
const RUNS: RunFixture[] = [
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
const LDS = (8 / Math.sqrt(95) + 2 / Math.sqrt(80)) / 2;

async function getJson(app: AppLike, path: string) {
  const res = await app.request(path);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

/** Starts an LDS; the 202 body. */
async function startLds(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/evaluations/lds", body);
  const started = await res.json();
  assert.equal(res.status, 202, JSON.stringify(started));
  return started as { evaluation: Record<string, unknown> & { id: string }; job: string };
}

/** A job that holds the (one-at-a-time) queue until released, so later jobs stay queued. */
function blockQueue(jobs: Awaited<ReturnType<typeof testApp>>["jobs"]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const job = jobs.submit("block", {}, async () => await released);
  return { job: job.id, release };
}

Deno.test("evaluations: an LDS is kept, listed by study, shown, deleted", async (t) => {
  const ctx = await testApp();
  const { app } = ctx;
  try {
    const runs = await uploadRuns(app, "hand", TESTS, RUNS);
    const other = await uploadRuns(app, "other", TESTS, RUNS);
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: TAU });
    let kept = "";

    await t.step("POST answers with the kept record, running, and its job", async () => {
      const started = await startLds(app, { study: "hand", runs, method: { scores } });
      kept = started.evaluation.id;
      assert.equal(started.evaluation.status, "running");
      assert.equal(started.evaluation.study, "hand");
      assert.deepEqual(started.evaluation.method, { scores });
      assert.equal(started.evaluation.lds, null);
      assert.equal(started.evaluation.job, started.job);
      const job = await finishedJob(app, started.job);
      assert.equal(job.status, "succeeded", JSON.stringify(job));
      assert.equal(job.result.evaluation, kept, "the job's result names the kept evaluation");
      assert.ok(Math.abs(job.result.lds - LDS) < 1e-9);
    });

    await t.step("GET shows the method, runs, interval and ρ per test example", async () => {
      const shown = await getJson(app, `/v1/evaluations/${kept}`);
      assert.equal(shown.status, "ready");
      assert.equal(shown.kind, "lds");
      assert.deepEqual(shown.method, { scores });
      assert.deepEqual(shown.runs, { ids: runs, total: 5 });
      assert.ok(Math.abs(shown.lds - LDS) < 1e-9);
      assert.ok(Math.abs(shown.interval.lower - 2 / Math.sqrt(80)) < 1e-9);
      assert.ok(Math.abs(shown.interval.upper - 8 / Math.sqrt(95)) < 1e-9);
      assert.equal(shown.interval.confidence, 0.95);
      assert.deepEqual(shown.tests.map((e: { test: string }) => e.test), TESTS);
      assert.equal(shown.tests[2].spearman, null);
      assert.equal(shown.scoredTests, 2);
      assert.equal(shown.constantTests, 1);
      assert.deepEqual(shown.fittingRuns, { ids: [], total: 0 });
      assert.equal(shown.bootstrap.resamples, 1000);
      assert.ok(!Number.isNaN(Date.parse(shown.createdAt)));
    });

    await t.step("the list pages newest first, filters by study, leaves out ρ", async () => {
      const second = await startLds(app, {
        study: "other",
        runs: other,
        method: { scores },
        bootstrap: { resamples: 200, seed: 3 },
      });
      await finishedJob(app, second.job);
      const third = await startLds(app, {
        study: "hand",
        runs: runs.toReversed(),
        method: { scores },
      });
      await finishedJob(app, third.job);

      const all = await getJson(app, "/v1/evaluations");
      assert.equal(all.total, 3);
      assert.deepEqual(all.evaluations.map((e: { id: string }) => e.id), [
        third.evaluation.id,
        second.evaluation.id,
        kept,
      ]);
      assert.ok(all.evaluations.every((e: Record<string, unknown>) => !("tests" in e)));
      assert.equal(all.evaluations[1].bootstrap.seed, 3);
      const hand = await getJson(app, "/v1/evaluations?study=hand&limit=1&offset=1");
      assert.deepEqual(
        { total: hand.total, limit: hand.limit, offset: hand.offset },
        { total: 2, limit: 1, offset: 1 },
      );
      assert.deepEqual(hand.evaluations.map((e: { id: string }) => e.id), [kept]);
      assert.equal((await getJson(app, "/v1/evaluations?study=nobody")).total, 0);
      const bad = await app.request("/v1/evaluations?study=%07bell");
      assert.equal(bad.status, 400);
      assert.equal((await bad.json()).error.details.field, "study");
      assert.equal((await app.request("/v1/evaluations?limit=501")).status, 400);
    });

    await t.step("kept: a store opened again on the data directory reads them", () => {
      const again = SqliteStore.open({ dataDir: ctx.dataDir, modules: STORE_MODULES });
      try {
        const record = again.get(EVALUATIONS).get(kept);
        assert.equal(record?.status, "ready");
        assert.equal(again.get(EVALUATIONS).list({ limit: 10, offset: 0 }).total, 3);
      } finally {
        again.close();
      }
    });

    await t.step("DELETE removes one; a second DELETE and a GET are 404s", async () => {
      const del = await app.request(`/v1/evaluations/${kept}`, { method: "DELETE" });
      assert.equal(del.status, 204);
      const gone = await app.request(`/v1/evaluations/${kept}`);
      assert.equal(gone.status, 404);
      assert.equal((await gone.json()).error.details.field, "id");
      assert.equal(
        (await app.request(`/v1/evaluations/${kept}`, { method: "DELETE" })).status,
        404,
      );
      assert.equal((await getJson(app, "/v1/evaluations")).total, 2);
    });

    await t.step("deleting a study deletes its evaluations, and only those", async () => {
      const del = await app.request("/v1/studies/hand", { method: "DELETE" });
      assert.equal(del.status, 200, await del.clone().text());
      assert.equal((await getJson(app, "/v1/evaluations?study=hand")).total, 0);
      const left = await getJson(app, "/v1/evaluations");
      assert.deepEqual(left.evaluations.map((e: { study: string }) => e.study), ["other"]);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("evaluations: deleting one, or its study, while queued cancels its job", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  try {
    const runs = await uploadRuns(app, "hand", TESTS, RUNS);
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: TAU });
    const blocker = blockQueue(ctx.jobs);
    const first = await startLds(app, { study: "hand", runs, method: { scores } });
    const second = await startLds(app, { study: "hand", runs, method: { scores } });
    const del = await app.request(`/v1/evaluations/${first.evaluation.id}`, { method: "DELETE" });
    assert.equal(del.status, 204);
    assert.equal(
      (await getJson(app, `/v1/jobs/${first.job}`)).status,
      "cancelled",
    );
    const study = await app.request("/v1/studies/hand", { method: "DELETE" });
    assert.equal(study.status, 200);
    assert.equal(
      (await getJson(app, `/v1/jobs/${second.job}`)).status,
      "cancelled",
    );
    assert.equal((await app.request(`/v1/evaluations/${second.evaluation.id}`)).status, 404);
    blocker.release();
    assert.equal((await finishedJob(app, blocker.job)).status, "succeeded");
    assert.equal((await (await app.request("/v1/evaluations")).json()).total, 0);
  } finally {
    await ctx.close();
  }
});

Deno.test("evaluations: a cancelled LDS is kept as cancelled; one a crash cut short, failed", async () => {
  const ctx = await testApp();
  const { app } = ctx;
  try {
    const runs = await uploadRuns(app, "hand", TESTS, RUNS);
    const scores = await storeScoreSet(ctx.store, { queries: TESTS, train: TRAIN, scores: TAU });
    const blocker = blockQueue(ctx.jobs);
    const cancelled = await startLds(app, { study: "hand", runs, method: { scores } });
    const queued = await startLds(app, { study: "hand", runs, method: { scores } });
    await app.request(`/v1/jobs/${cancelled.job}`, { method: "DELETE" });
    const shown = await (await app.request(`/v1/evaluations/${cancelled.evaluation.id}`)).json();
    assert.equal(shown.status, "cancelled");
    assert.equal(shown.lds, null);
    assert.equal(shown.tests, null);
    // A process that dies leaves `queued` running; the next start marks it failed.
    const again = SqliteStore.open({ dataDir: ctx.dataDir, modules: STORE_MODULES });
    try {
      const record = again.get(EVALUATIONS).get(queued.evaluation.id);
      assert.equal(record?.status, "failed");
      assert.equal(record?.error, "interrupted");
    } finally {
      again.close();
    }
    blocker.release();
    // Its job then finds the record no longer running and fails rather than resurrect it.
    const job = await finishedJob(app, queued.job);
    assert.equal(job.status, "failed");
    assert.match(job.error, /deleted|running/);
  } finally {
    await ctx.close();
  }
});
