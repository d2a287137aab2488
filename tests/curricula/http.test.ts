// POST /v1/curricula/optimize without a GPU: a synthetic study whose true additive model makes
// five training ids harmful to q0; a simulator fitted on its runs (CPU) and a score set of the
// true effects both find them; the records, downloads, cancel and resume; and every bad input a
// 4xx naming the field, with nothing kept.
import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { gaussian, seededUniform } from "../../src/random.ts";
import { testApp } from "../helpers/app.ts";
import {
  type AppLike,
  finishedJob,
  postJson,
  type RunFixture,
  storeScoreSet,
  uploadRuns,
} from "../simfluence/score_set_fixture.ts";

const TESTS = ["q0", "q1"];
const TRAIN = Array.from({ length: 20 }, (_, i) => `e${i}`);
const HARMFUL = TRAIN.slice(0, 5);
/** True additive effect of each id on each test's loss per step (q0: e0–e4 raise it). */
const EFFECT = TRAIN.map((_, i) => [i < 5 ? 0.04 : -0.01 - 0.001 * i, i % 2 === 0 ? -0.02 : 0.01]);

function runOf(name: string, batches: string[][], seed: number): RunFixture {
  const noise = gaussian(seededUniform(seed));
  const losses = [[3, 3]];
  for (const batch of batches) {
    const last = losses.at(-1)!;
    losses.push(
      last.map((l, z) =>
        l + batch.reduce((s, id) => s + EFFECT[TRAIN.indexOf(id)][z], 0) + 0.002 * noise()
      ),
    );
  }
  return { name, batches, losses };
}

function randomBatches(seed: number, steps: number): string[][] {
  const uniform = seededUniform(seed);
  return Array.from({ length: steps }, () => {
    const batch = new Set<string>();
    while (batch.size < 4) batch.add(TRAIN[Math.floor(uniform() * TRAIN.length)]);
    return [...batch];
  });
}

const BASE_BATCHES = Array.from(
  { length: 10 },
  (_, t) => TRAIN.slice((t % 5) * 4, (t % 5) * 4 + 4),
);

async function optimize(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/curricula/optimize", body);
  const text = await res.text();
  assert.equal(res.status, 202, text);
  const { optimization, job } = JSON.parse(text);
  const finished = await finishedJob(app, job);
  assert.equal(finished.status, "succeeded", JSON.stringify(finished));
  const record = await (await app.request(`/v1/curricula/optimizations/${optimization.id}`)).json();
  return { record, job: finished };
}

async function refused(
  app: AppLike,
  body: Record<string, unknown>,
  status: number,
  field?: string,
) {
  const res = await postJson(app, "/v1/curricula/optimize", body);
  const answer = await res.json();
  assert.equal(res.status, status, JSON.stringify(answer));
  if (field !== undefined) {
    const named = answer.error.details.field ??
      answer.error.details.issues?.map((i: { path: string }) => i.path).join(",");
    assert.ok(String(named).includes(field), `${field} not named: ${JSON.stringify(answer)}`);
  }
  return answer.error;
}

Deno.test("curriculum optimisation over HTTP (no GPU)", async (t) => {
  const ctx = await testApp();
  try {
    const app = ctx.app;
    const [base] = await uploadRuns(app, "syn", TESTS, [runOf("base", BASE_BATCHES, 1)]);
    const fitting = await uploadRuns(
      app,
      "syn",
      TESTS,
      Array.from({ length: 14 }, (_, r) => runOf(`fit-${r}`, randomBatches(10 + r, 12), 20 + r)),
    );
    const fit = await postJson(app, "/v1/simulators", {
      study: "syn",
      kind: "additive",
      trainRuns: fitting.slice(0, 11),
      validationRuns: fitting.slice(11),
    });
    assert.equal(fit.status, 202, await fit.clone().text());
    const fitBody = await fit.json();
    assert.equal((await finishedJob(app, fitBody.job)).status, "succeeded");
    const simulator = fitBody.simulator.id as string;
    const request = {
      study: "syn",
      objective: { tests: ["q0"] },
      budget: { subsetSize: 10 },
      baseRun: "base",
      method: { simulator },
      seed: 1,
      search: { restarts: 3, rounds: 60, candidates: 32 },
    };

    let optimization = "";
    await t.step("the simulator search drops the harmful ids and predicts a gain", async () => {
      const { record } = await optimize(app, request);
      optimization = record.id;
      assert.equal(record.status, "ready");
      assert.equal(record.method, "simulator");
      assert.deepEqual(record.budget, { keep: 10, of: 20 });
      assert.deepEqual(record.objective, { tests: ["q0"], at: "final" });
      const { curriculum, predicted, changes, search, provenance } = record.result;
      assert.equal(curriculum.kept.length, 10);
      for (const id of HARMFUL) assert.ok(!curriculum.kept.includes(id), `${id} kept`);
      assert.deepEqual(curriculum.order, BASE_BATCHES.map((_, t) => t));
      assert.equal(curriculum.batches.flat().length, 20);
      assert.ok(predicted.optimized.objective < predicted.randomMean);
      assert.ok(predicted.optimized.objective < predicted.own.objective);
      assert.equal(predicted.optimized.trajectory.length, 11);
      assert.equal(predicted.random.length, 8);
      assert.ok(predicted.improvement > 0);
      // Harmful ids were dropped: their presence would raise the loss.
      for (const { id, contribution } of changes.dropped) {
        if (HARMFUL.includes(id)) assert.ok(contribution > 0, `${id}: ${contribution}`);
      }
      assert.deepEqual(changes.added, []);
      assert.ok(search.curriculaEvaluated > 3 * 60 * 32);
      assert.ok(search.curriculaPerSecond > 0);
      assert.equal(search.device, "cpu", "no GPU: the search rolls out on the CPU");
      assert.equal(provenance.simulator, simulator);
      assert.equal(provenance.baseRun, base);
      assert.equal(record.verification, null);
    });

    await t.step("order optimize searches batch orders too", async () => {
      const { record } = await optimize(app, { ...request, order: "optimize" });
      const order = record.result.curriculum.order as number[];
      assert.deepEqual([...order].sort((a, b) => a - b), BASE_BATCHES.map((_, t) => t));
      for (const id of HARMFUL) assert.ok(!record.result.curriculum.kept.includes(id));
    });

    await t.step("scores: drop the most harmful by summed scores", async () => {
      const scoreSet = await storeScoreSet(ctx.store, {
        queries: TESTS,
        train: TRAIN,
        scores: TESTS.map((_, z) => TRAIN.map((_, i) => -EFFECT[i][z])),
      });
      const { record } = await optimize(app, { ...request, method: { scores: scoreSet } });
      const kept = record.result.curriculum.kept as string[];
      assert.deepEqual(kept, TRAIN.slice(10), "the 10 most harmful (e0–e9) go");
      assert.equal(record.result.predicted.optimized.trajectory, null);
      // Own curriculum: the base run's observed q0; optimised: plus the dropped ids' scores.
      const dropSum = TRAIN.slice(0, 10).reduce((s, _, i) => s - EFFECT[i][0], 0);
      assert.ok(
        Math.abs(
          record.result.predicted.optimized.objective - record.result.predicted.own.objective -
            dropSum,
        ) < 1e-5,
      );
    });

    await t.step("records, downloads and delete", async () => {
      const list = await (await app.request("/v1/curricula/optimizations?study=syn")).json();
      assert.equal(list.total, 3);
      assert.ok(list.optimizations.every((o: { status: string }) => o.status === "ready"));
      const json = await (await app.request(
        `/v1/curricula/optimizations/${optimization}/curriculum?format=json`,
      )).json();
      assert.equal(json.steps.length, 10);
      assert.equal(json.kept.length, 10);
      const zipped = await app.request(
        `/v1/curricula/optimizations/${optimization}/curriculum?format=gptfluence`,
      );
      assert.equal(zipped.headers.get("content-type"), "application/zip");
      const files = unzipSync(new Uint8Array(await zipped.arrayBuffer()));
      const decoder = new TextDecoder();
      const train = decoder.decode(files["train_samples_id.json"]).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(train.length, 10);
      assert.deepEqual(train[0], { step: 1, samples_id: json.steps[0].batch });
      const loss = decoder.decode(files["all_loss_trajectory.out"]).trim().split("\n");
      assert.equal(loss.length, 2);
      assert.equal(JSON.parse(loss[0]).loss_trajectory.length, 11);
      // The simulator's own trajectory of q0 ends where the predicted objective does.
      const finalQ0 = JSON.parse(loss[0]).loss_trajectory[10].loss;
      const got = await (await app.request(`/v1/curricula/optimizations/${optimization}`)).json();
      assert.ok(Math.abs(finalQ0 - got.result.predicted.optimized.objective) < 1e-4);
      assert.equal(
        (await app.request(`/v1/curricula/optimizations/${optimization}`, { method: "DELETE" }))
          .status,
        204,
      );
      assert.equal((await app.request(`/v1/curricula/optimizations/${optimization}`)).status, 404);
    });

    await t.step("cancel, then resume as a new optimisation", async () => {
      const res = await postJson(app, "/v1/curricula/optimize", {
        ...request,
        search: { restarts: 64, rounds: 100_000, candidates: 64 },
      });
      const { optimization: started, job } = await res.json();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await app.request(`/v1/jobs/${job}`, { method: "DELETE" })).status, 202);
      assert.equal((await finishedJob(app, job)).status, "cancelled");
      const stopped = await (await app.request(`/v1/curricula/optimizations/${started.id}`)).json();
      assert.equal(stopped.status, "cancelled");
      const resumed = await (await app.request(`/v1/jobs/${job}/resume`, { method: "POST" }))
        .json();
      assert.ok(resumed.job && resumed.optimization && resumed.optimization !== started.id);
      await app.request(`/v1/jobs/${resumed.job}`, { method: "DELETE" });
      assert.equal((await finishedJob(app, resumed.job)).status, "cancelled");
    });

    await t.step("bad input is a 4xx naming the field; nothing is kept", async () => {
      const before = (await (await app.request("/v1/curricula/optimizations")).json()).total;
      await refused(app, { ...request, budget: { subsetSize: 21 } }, 400, "budget.subsetSize");
      await refused(
        app,
        { ...request, budget: { subsetSize: 1 }, keep: ["e1", "e2"] },
        400,
        "budget",
      );
      await refused(app, { ...request, objective: { tests: ["q9"] } }, 400, "objective.tests");
      await refused(app, { ...request, objective: { tests: [] } }, 400, "objective.tests");
      await refused(
        app,
        { ...request, objective: { tests: ["q0"], weights: { q0: 0 } } },
        400,
        "objective.weights",
      );
      await refused(app, { ...request, keep: ["nope"] }, 400, "keep");
      await refused(app, { ...request, exclude: ["nope"] }, 400, "exclude");
      await refused(app, { ...request, budget: { dropFraction: 1 } }, 400, "budget");
      await refused(app, { ...request, study: "none" }, 404, "study");
      await refused(app, { ...request, baseRun: "nope" }, 400, "baseRun");
      // A simulator of another study.
      await uploadRuns(app, "other", TESTS, [runOf("o", BASE_BATCHES, 5)]);
      const foreign = await postJson(app, "/v1/simulators", {
        study: "other",
        kind: "additive",
        trainRuns: ["o"],
        lambda: 1,
      });
      const foreignSim = (await foreign.json()).simulator.id;
      await refused(
        app,
        { ...request, method: { simulator: foreignSim } },
        400,
        "method.simulator",
      );
      // A score set that does not cover the objective's tests.
      const partial = await storeScoreSet(ctx.store, {
        queries: ["q1"],
        train: TRAIN,
        scores: [TRAIN.map(() => 0)],
      });
      await refused(app, { ...request, method: { scores: partial } }, 400, "method.scores");
      await refused(
        app,
        { ...request, objective: { tests: ["q0"], at: "mean" }, method: { scores: partial } },
        400,
        "objective.at",
      );
      await refused(app, { ...request, verify: { runs: 8 } }, 503);
      await refused(
        app,
        { ...request, method: { metagradient: { run: "base", iterations: 2 } } },
        503,
      );
      await refused(app, { ...request, bogus: 1 }, 400);
      assert.equal((await (await app.request("/v1/curricula/optimizations")).json()).total, before);
    });

    await t.step("the OpenAPI document describes the routes", async () => {
      const doc = await (await app.request("/openapi.json")).json();
      for (
        const path of [
          "/v1/curricula/optimize",
          "/v1/curricula/optimizations",
          "/v1/curricula/optimizations/{id}",
          "/v1/curricula/optimizations/{id}/curriculum",
        ]
      ) assert.ok(doc.paths[path], path);
      assert.ok(doc.components.schemas.CurriculumOptimization);
    });
  } finally {
    await ctx.close();
  }
});
