// Runs are named by id or by name wherever the study is known (names are unique per study):
// a simulator's fitting runs, simulate's `fromRun`, evaluate's and LDS's `runs`. A value that
// is neither names the study and says both were tried; a run of another study says whose it is.
import assert from "node:assert/strict";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import { parseSse, testApp } from "../helpers/app.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];

const M = 3;
const TESTS = Array.from({ length: M }, (_, z) => `q${z}`);

function postJson(app: App, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Five small runs named run-0 … run-4 in study "demo"; their ids. */
async function uploadStudy(app: App): Promise<string[]> {
  const model = randomModel(7, {
    n: 8,
    m: M,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.25 * z);
  const runs = generateRuns(3, model, { runs: 5, steps: 12, batch: 2, noise: 1e-4, initial });
  const ids: string[] = [];
  for (const [r, run] of runs.entries()) {
    const losses = Array.from(
      { length: run.batches.length + 1 },
      (_, t) => Array.from(run.losses.subarray(t * M, (t + 1) * M)),
    );
    const res = await postJson(app, "/v1/runs", {
      study: "demo",
      name: `run-${r}`,
      testExamples: TESTS,
      steps: (run.batches as number[][]).map((b) => ({ batch: b.map((i) => `e${i}`) })),
      losses,
    });
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).id);
  }
  return ids;
}

async function errorOf(res: Response, status: number) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text).error as { code: string; message: string; details: { field: string } };
}

Deno.test("runs are named by id or name where the study is known", async (t) => {
  const ctx = await testApp();
  const { app } = ctx;
  try {
    const ids = await uploadStudy(app);
    const other = await postJson(app, "/v1/runs", {
      study: "elsewhere",
      name: "run-9",
      testExamples: ["q0"],
      steps: [{ batch: ["e1"] }],
      losses: [[2], [1]],
    });
    const otherId = (await other.json()).id;

    let simulator = "";
    await t.step("a simulator fits on runs given by name and records their ids", async () => {
      const res = await postJson(app, "/v1/simulators", {
        study: "demo",
        kind: "linear",
        trainRuns: ["run-0", ids[1], "run-2"],
        validationRuns: ["run-3"],
      });
      assert.equal(res.status, 202, await res.clone().text());
      const created = await res.json();
      simulator = created.simulator.id;
      assert.deepEqual(created.simulator.trainRuns, ids.slice(0, 3));
      assert.deepEqual(created.simulator.validationRuns, [ids[3]]);
      const events = parseSse(await (await app.request(`/v1/jobs/${created.job}/events`)).text());
      assert.equal(events.at(-1)?.event, "done", JSON.stringify(events.at(-1)));
    });

    await t.step("a name and the id of the same run are one run listed twice", async () => {
      const error = await errorOf(
        await postJson(app, "/v1/simulators", {
          study: "demo",
          kind: "linear",
          trainRuns: ["run-0", ids[0]],
        }),
        400,
      );
      assert.equal(error.details.field, "trainRuns.1");
      assert.match(error.message, /already listed/);
    });

    await t.step("a value that is neither an id nor a name says both were tried", async () => {
      const error = await errorOf(
        await postJson(app, "/v1/simulators", {
          study: "demo",
          kind: "linear",
          trainRuns: ["run-0", "run-7"],
        }),
        400,
      );
      assert.equal(error.details.field, "trainRuns.1");
      assert.match(error.message, /study "demo" has no run with id or name "run-7"/);
    });

    await t.step("a run of another study, by id, says whose it is", async () => {
      const error = await errorOf(
        await postJson(app, "/v1/simulators", {
          study: "demo",
          kind: "linear",
          trainRuns: [otherId],
        }),
        400,
      );
      assert.match(error.message, /belongs to study "elsewhere", not "demo"/);
      // By name, run-9 is simply not in demo.
      const byName = await errorOf(
        await postJson(app, "/v1/simulators", {
          study: "demo",
          kind: "linear",
          trainRuns: ["run-9"],
        }),
        400,
      );
      assert.match(byName.message, /has no run with id or name "run-9"/);
    });

    await t.step("simulate fromRun takes a name", async () => {
      const byName = await postJson(app, `/v1/simulators/${simulator}/simulate`, {
        fromRun: "run-4",
      });
      const byId = await postJson(app, `/v1/simulators/${simulator}/simulate`, { fromRun: ids[4] });
      assert.equal(byName.status, 200, await byName.clone().text());
      assert.deepEqual(await byName.json(), await byId.json());
      const error = await errorOf(
        await postJson(app, `/v1/simulators/${simulator}/simulate`, { fromRun: "run-8" }),
        400,
      );
      assert.equal(error.details.field, "fromRun");
      assert.match(error.message, /has no run with id or name "run-8"/);
    });

    await t.step("evaluate takes names, and knows a fitting run by its name", async () => {
      const res = await postJson(app, `/v1/simulators/${simulator}/evaluate`, { runs: ["run-4"] });
      assert.equal(res.status, 200, await res.clone().text());
      // A fitting run named by name is answered as the same run named by id.
      const byName = await postJson(app, `/v1/simulators/${simulator}/evaluate`, {
        runs: ["run-0"],
      });
      const byId = await postJson(app, `/v1/simulators/${simulator}/evaluate`, { runs: [ids[0]] });
      assert.equal(byName.status, byId.status);
      assert.equal((await byName.json()).error?.code, (await byId.json()).error?.code);
    });

    await t.step("LDS takes names; an unknown one names its place in runs", async () => {
      const error = await errorOf(
        await postJson(app, "/v1/evaluations/lds", {
          study: "demo",
          runs: ["run-0", "run-1", "run-2", "run-3", "run-6"],
          method: { simulator },
        }),
        400,
      );
      assert.equal(error.details.field, "runs.4");
      assert.match(error.message, /has no run with id or name "run-6"/);
    });
  } finally {
    await ctx.close();
  }
});
