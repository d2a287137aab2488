import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import type { Run } from "../../src/simfluence/math/types.ts";
import { fitJob, type FitJobInput } from "../../src/simfluence/fit_job.ts";
import { activeSimulationStreams, streamedSimulationBatches } from "../../routes/simulators.ts";
import { parseSse, testApp, until } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { simulatorFiles } from "../helpers/simulator_files.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { SIMULATORS } from "../../src/simfluence/simulator_store.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

const N = 12;
const M = 5;
const trainId = (i: number) => `e${i}`;
const testIds = Array.from({ length: M }, (_, z) => `q${z}`);

function syntheticRuns(): Run[] {
  const model = randomModel(3, {
    n: N,
    m: M,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.25 * z);
  return generateRuns(5, model, { runs: 7, steps: 30, batch: 3, noise: 1e-4, initial });
}

function runBody(run: Run, name: string) {
  const losses: number[][] = [];
  for (let t = 0; t <= run.batches.length; t++) {
    losses.push(Array.from(run.losses.subarray(t * M, (t + 1) * M)));
  }
  return {
    study: "synthetic",
    name,
    testExamples: testIds,
    steps: (run.batches as number[][]).map((b) => ({ batch: b.map(trainId) })),
    losses,
  };
}

async function postJson(app: AppLike, path: string, body: unknown, accept?: string) {
  return await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
    body: JSON.stringify(body),
  });
}

/** Uploads the synthetic study; the last run also trains on an id no other run has. */
async function uploadStudy(app: AppLike): Promise<string[]> {
  const ids: string[] = [];
  const runs = syntheticRuns();
  for (const [r, run] of runs.entries()) {
    const body = runBody(run, `run-${r}`);
    if (r === runs.length - 1) body.steps[0].batch.push("only-in-held-out");
    const res = await postJson(app, "/v1/runs", body);
    assert.equal(res.status, 201, await res.clone().text());
    ids.push((await res.json()).id);
  }
  return ids;
}

async function fit(app: AppLike, body: Record<string, unknown>) {
  const res = await postJson(app, "/v1/simulators", { study: "synthetic", ...body });
  assert.equal(res.status, 202, await res.clone().text());
  const { simulator, job } = await res.json();
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text());
  return { id: simulator.id as string, events };
}

async function fittedStudy(useGpu: boolean) {
  const gpu = useGpu
    ? gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false })
    : undefined;
  const ctx = await testApp({ gpu });
  const runIds = await uploadStudy(ctx.app);
  const { id, events } = await fit(ctx.app, {
    kind: "linear",
    trainRuns: runIds.slice(0, 5),
    validationRuns: [runIds[5]],
    lambda: "auto",
  });
  return { ctx, runIds, simulator: id, fitEvents: events };
}

Deno.test(
  "simulators: fit as a job, inspect, evaluate held out, rank, simulate",
  gpuTest,
  async (t) => {
    const { ctx, runIds, simulator, fitEvents } = await fittedStudy(true);
    const app = ctx.app;
    try {
      await t.step("the fit job reports progress and finishes", () => {
        assert.ok(fitEvents.some((e) => e.event === "progress"));
        assert.equal(fitEvents.at(-1)!.event, "done", JSON.stringify(fitEvents.at(-1)));
      });
      await t.step(
        "the simulator records λ, runs used, fit statistics and unseen ids",
        async () => {
          const sim = await (await app.request(`/v1/simulators/${simulator}`)).json();
          assert.equal(sim.status, "ready");
          assert.equal(sim.fit.solver, "gpu-cg");
          assert.equal(sim.fit.lambdaSelection, "auto");
          assert.ok(sim.lambdaFactor > 0);
          assert.deepEqual(sim.trainRuns, runIds.slice(0, 5));
          assert.deepEqual(sim.unseenTrainExamples, { ids: ["only-in-held-out"], total: 1 });
        },
      );
      await t.step("held-out metrics are near the noise floor", async () => {
        const res = await postJson(app, `/v1/simulators/${simulator}/evaluate`, {
          runs: [runIds[6]],
        });
        assert.equal(res.status, 200);
        const evaluation = await res.json();
        assert.equal(evaluation.runs.length, 1);
        assert.ok(evaluation.pooled.allStepsMse < 1e-3, JSON.stringify(evaluation.pooled));
        assert.ok(evaluation.pooled.finalStepSpearman > 0.8);
        const sim = await (await app.request(`/v1/simulators/${simulator}`)).json();
        assert.deepEqual(sim.evaluation.pooled, evaluation.pooled);
      });
      await t.step("fitting runs are refused unless allowed", async () => {
        const refused = await postJson(app, `/v1/simulators/${simulator}/evaluate`, {
          runs: [runIds[0]],
        });
        assert.equal(refused.status, 409);
        assert.match((await refused.json()).error.message, /used to fit/);
        const allowed = await postJson(app, `/v1/simulators/${simulator}/evaluate`, {
          runs: [runIds[0]],
          allowFittingRuns: true,
        });
        assert.equal(allowed.status, 200);
      });
      await t.step("influence ranks helpful and harmful training examples", async () => {
        const res = await app.request(`/v1/simulators/${simulator}/influence?test=q1&top=3`);
        assert.equal(res.status, 200);
        const ranking = await res.json();
        assert.ok(ranking.helpful.length > 0 && ranking.helpful.length <= 3);
        for (let k = 1; k < ranking.helpful.length; k++) {
          assert.ok(ranking.helpful[k - 1].net <= ranking.helpful[k].net);
        }
        assert.match(ranking.helpful[0].trainExample, /^e\d+$/);
        assert.equal(
          (await app.request(`/v1/simulators/${simulator}/influence?test=nope`)).status,
          400,
        );
      });
      await t.step("simulate returns JSON trajectories; SSE streams the same numbers", async () => {
        const body = { fromRun: runIds[6], permute: 11, unknown: "ignore", chunkSteps: 7 };
        const asJson = await (await postJson(app, `/v1/simulators/${simulator}/simulate`, body))
          .json();
        assert.deepEqual(asJson.tests, testIds);
        assert.equal(asJson.trajectories.q0.length, 31);
        const res = await postJson(
          app,
          `/v1/simulators/${simulator}/simulate`,
          body,
          "text/event-stream",
        );
        assert.equal(res.headers.get("content-type"), "text/event-stream");
        const events = parseSse(await res.text()).filter((e) => e.event !== "comment");
        assert.equal(events[0].event, "meta");
        const steps = events.filter((e) => e.event === "step").map((e) => JSON.parse(e.data));
        assert.deepEqual(steps.map((s) => s.t), Array.from({ length: 30 }, (_, k) => k + 1));
        testIds.forEach((id, j) => {
          assert.deepEqual(steps.map((s) => s.losses[j]), asJson.trajectories[id].slice(1));
        });
        const done = JSON.parse(events.at(-1)!.data);
        assert.equal(events.at(-1)!.event, "done");
        assert.equal(done.finalLosses.q2, asJson.trajectories.q2[30]);
      });
      await t.step(
        "dropping ids changes the trajectory, an empty drop does not",
        async () => {
          const base = await (await postJson(app, `/v1/simulators/${simulator}/simulate`, {
            fromRun: runIds[3],
          })).json();
          const same = await (await postJson(app, `/v1/simulators/${simulator}/simulate`, {
            fromRun: runIds[3],
            drop: [],
          })).json();
          assert.deepEqual(same.trajectories, base.trajectories);
          const dropped = await (await postJson(app, `/v1/simulators/${simulator}/simulate`, {
            fromRun: runIds[3],
            drop: ["e1", "e2", "e3"],
          })).json();
          assert.notDeepEqual(dropped.trajectories.q0, base.trajectories.q0);
        },
      );
      await t.step("unknown training ids are a 400 listing them unless ignored", async () => {
        const curriculum = [["e1", "mystery"], ["e2"]];
        const res = await postJson(app, `/v1/simulators/${simulator}/simulate`, { curriculum });
        assert.equal(res.status, 400);
        const error = (await res.json()).error;
        assert.deepEqual(error.details.unknown, { ids: ["mystery"], total: 1 });
        const ok = await postJson(app, `/v1/simulators/${simulator}/simulate`, {
          curriculum,
          unknown: "ignore",
          tests: ["q3"],
          initialLosses: { q3: 1.5 },
        });
        const body = await ok.json();
        assert.deepEqual(Object.keys(body.trajectories), ["q3"]);
        assert.equal(body.trajectories.q3[0], 1.5);
      });
      await t.step(
        "unknown ids in drop and repeat are a 400 naming the field unless ignored",
        async () => {
          const path = `/v1/simulators/${simulator}/simulate`;
          const base = await (await postJson(app, path, { fromRun: runIds[3] })).json();
          for (
            const [field, variation] of [
              ["drop", { drop: ["e1", "zzz"] }],
              ["repeat", { repeat: { nope: 2, e2: 2 } }],
            ] as const
          ) {
            const res = await postJson(app, path, { fromRun: runIds[3], ...variation });
            assert.equal(res.status, 400, field);
            const error = (await res.json()).error;
            assert.equal(error.details.field, field);
            assert.deepEqual(error.details.unknown.ids, [field === "drop" ? "zzz" : "nope"]);
            assert.match(
              error.message,
              new RegExp(`\`${field}\`.*${error.details.unknown.ids[0]}`),
            );
            // Ignored, the unknown id has no effect and the known one still does.
            const ignored = await postJson(app, path, {
              fromRun: runIds[3],
              ...variation,
              unknown: "ignore",
            });
            assert.equal(ignored.status, 200, field);
            const body = await ignored.json();
            const knownOnly = field === "drop" ? { drop: ["e1"] } : { repeat: { e2: 2 } };
            const expected = await (await postJson(app, path, { fromRun: runIds[3], ...knownOnly }))
              .json();
            assert.deepEqual(body.trajectories, expected.trajectories);
            assert.notDeepEqual(body.trajectories, base.trajectories);
          }
        },
      );
      await t.step("bad simulate requests name the field", async () => {
        const cases: [unknown, RegExp][] = [
          [{}, /exactly one of/],
          [{ curriculum: [["e1"]], fromRun: runIds[0] }, /exactly one of/],
          [{ curriculum: [["e1"]], permute: 3 }, /fromRun/],
          [{ fromRun: "nope" }, /fromRun/],
          [{ curriculum: [["e1"]], tests: ["zz"] }, /unknown test/],
          [{ curriculum: [["e1"]], tests: ["q1"], initialLosses: { q2: 1 } }, /initialLosses/],
          [{ curriculum: [] }, /no steps/],
        ];
        for (const [body, pattern] of cases) {
          const res = await postJson(app, `/v1/simulators/${simulator}/simulate`, body);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.match((await res.json()).error.message, pattern);
        }
      });
      await t.step(
        "EventSource flow: POST /v1/simulations, then GET its events (replayable)",
        async () => {
          const res = await postJson(app, "/v1/simulations", {
            simulator,
            fromRun: runIds[6],
            chunkSteps: 10,
          });
          assert.equal(res.status, 202);
          const { id, events } = await res.json();
          const first = parseSse(await (await app.request(events)).text());
          assert.deepEqual(first.map((e) => e.event), ["meta", ...Array(30).fill("step"), "done"]);
          const again = parseSse(await (await app.request(events)).text());
          assert.deepEqual(again, first);
          assert.equal((await (await app.request(`/v1/simulations/${id}`)).json()).status, "done");
          assert.equal((await app.request("/v1/simulations/nope/events")).status, 404);
        },
      );
    } finally {
      await ctx.close();
    }
  },
);

/** A client that disconnects after the first step event stops the rollout well before its end. */
async function disconnectStopsComputation(useGpu: boolean) {
  const { ctx, simulator } = await fittedStudy(useGpu);
  const server = Deno.serve({ port: 0, onListen: () => {} }, ctx.app.fetch);
  try {
    const steps = 20_000;
    const curriculum = Array.from({ length: steps }, (_, t) => [trainId(t % N)]);
    const controller = new AbortController();
    const before = streamedSimulationBatches();
    const res = await fetch(
      `http://127.0.0.1:${server.addr.port}/v1/simulators/${simulator}/simulate`,
      {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ curriculum, chunkSteps: 1 }),
        signal: controller.signal,
      },
    );
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("event: step")) {
      text += new TextDecoder().decode((await reader.read()).value);
    }
    assert.equal(activeSimulationStreams(), 1);
    controller.abort();
    await until(() => activeSimulationStreams() === 0, 5_000);
    // Chunks are computed only as they are written: meta + one batch per step + done in all.
    const written = streamedSimulationBatches() - before;
    assert.ok(written < steps / 2, `${written} of ${steps + 2} event batches were written`);
  } finally {
    await server.shutdown();
    await ctx.close();
  }
}

Deno.test("simulators: a disconnected SSE client stops the computation", gpuTest, async () => {
  await disconnectStopsComputation(true);
});

Deno.test("simulators: without a GPU a disconnected SSE client stops the rollout", async () => {
  await disconnectStopsComputation(false);
});

Deno.test("simulators: without a GPU the CPU solver fits and simulates", async () => {
  const { ctx, runIds, simulator, fitEvents } = await fittedStudy(false);
  try {
    assert.equal(fitEvents.at(-1)!.event, "done");
    const sim = await (await ctx.app.request(`/v1/simulators/${simulator}`)).json();
    assert.equal(sim.fit.solver, "cpu-cg");
    const res = await postJson(ctx.app, `/v1/simulators/${simulator}/evaluate`, {
      runs: [runIds[6]],
    });
    assert.ok((await res.json()).pooled.allStepsMse < 1e-3);
    const json = await (await postJson(ctx.app, `/v1/simulators/${simulator}/simulate`, {
      fromRun: runIds[6],
      tests: ["q3", "q1"],
    })).json();
    assert.deepEqual(Object.keys(json.trajectories), ["q3", "q1"]);
    assert.equal(json.trajectories.q1.length, 31);
  } finally {
    await ctx.close();
  }
});

Deno.test("simulators: duplicate test ids are a 400 naming them", async () => {
  const { ctx, runIds, simulator } = await fittedStudy(false);
  try {
    const body = { fromRun: runIds[6], tests: ["q1", "q2", "q1"] };
    for (
      const [path, request] of [
        [`/v1/simulators/${simulator}/simulate`, body],
        ["/v1/simulations", { simulator, ...body }],
      ] as const
    ) {
      const res = await postJson(ctx.app, path, request);
      assert.equal(res.status, 400, path);
      const { error } = await res.json();
      assert.equal(error.details.field, "tests");
      assert.match(error.message, /duplicate.*\bq1\b/);
      assert.doesNotMatch(error.message, /q2/);
    }
  } finally {
    await ctx.close();
  }
});

Deno.test("simulators: a cancel or delete while the fit stores its parameters wins", async (t) => {
  const ctx = await testApp();
  try {
    const runIds = await uploadStudy(ctx.app);
    const runs = ctx.store.get(RUNS);
    const simulators = ctx.store.get(SIMULATORS);
    /** Runs a fit job, calling `storing` when it reports its last phase, just before markReady. */
    const start = (storing: (id: string, job: AbortController) => void) => {
      const spec = { study: "synthetic", kind: "linear" as const, lambda: 1e-2 };
      const trainRuns = runIds.slice(0, 5);
      const { id } = simulators.create({ ...spec, trainRuns, validationRuns: [] });
      const input: FitJobInput = { ...spec, simulator: id, trainRuns, validationRuns: [] };
      const controller = new AbortController();
      const done = fitJob({ runs, simulators, runtime: null })({
        id: "job",
        input,
        signal: controller.signal,
        logger: ctx.logger,
        progress: (p) => {
          if (p.phase === "storing") storing(id, controller);
        },
        keep: () => {},
      });
      return { id, done };
    };
    await t.step("cancelled: the simulator stays cancelled, no parameters", async () => {
      const { id, done } = start((_, job) => job.abort(new Error("job cancelled")));
      await assert.rejects(done, /job cancelled/);
      assert.equal(simulators.get(id)!.status, "cancelled");
      assert.deepEqual(simulatorFiles(ctx.store, id), []);
    });
    await t.step("deleted: no parameters file is left behind", async () => {
      let deleted: Promise<boolean> | null = null;
      const { id, done } = start((id) => (deleted = simulators.delete(id)));
      await assert.rejects(done, /no longer fitting/);
      assert.equal(await deleted, true);
      assert.equal(simulators.get(id), null);
      assert.deepEqual(simulatorFiles(ctx.store, id), []);
    });
  } finally {
    await ctx.close();
  }
});

Deno.test("simulators: creation validates its input; scores become a simulator", async (t) => {
  const ctx = await testApp();
  try {
    const runIds = await uploadStudy(ctx.app);
    const bad: [Record<string, unknown>, number, RegExp][] = [
      [{ study: "nope", kind: "linear", trainRuns: [runIds[0]] }, 404, /study/],
      [{ study: "synthetic", kind: "linear", trainRuns: [] }, 400, /trainRuns/],
      [{ study: "synthetic", kind: "linear", trainRuns: ["missing"] }, 400, /trainRuns\.0/],
      [
        { study: "synthetic", kind: "linear", trainRuns: [runIds[0]], validationRuns: [runIds[0]] },
        400,
        /already listed/,
      ],
      [{ study: "synthetic", kind: "nonsense", trainRuns: [runIds[0]] }, 400, /kind/],
      [{ study: "synthetic", kind: "linear", trainRuns: [runIds[0]], lambda: -1 }, 400, /lambda/],
      [{ study: "synthetic", kind: "scores", trainRuns: [runIds[0]] }, 400, /needs `scores`/],
      [
        { study: "synthetic", kind: "scores", trainRuns: [runIds[0]], scores: { zz: { e1: 1 } } },
        400,
        /outside the study/,
      ],
      [
        { study: "synthetic", kind: "linear", trainRuns: [runIds[0]], scores: {} },
        400,
        /only for kind/,
      ],
    ];
    for (const [body, status, pattern] of bad) {
      await t.step(`${status} ${pattern}`, async () => {
        const res = await postJson(ctx.app, "/v1/simulators", body);
        assert.equal(res.status, status);
        assert.match(JSON.stringify(await res.json()), pattern);
      });
    }
    await t.step("a scores simulator fits one scale and can be evaluated", async () => {
      const scores = Object.fromEntries(
        testIds.map((q) => [q, { e1: 0.02, e2: -0.01, e3: 0.005 }]),
      );
      const { id, events } = await fit(ctx.app, {
        kind: "scores",
        trainRuns: runIds.slice(0, 5),
        scores,
      });
      assert.equal(events.at(-1)!.event, "done");
      const sim = await (await ctx.app.request(`/v1/simulators/${id}`)).json();
      assert.equal(sim.kind, "scores");
      assert.equal(typeof sim.fit.scoreScale, "number");
      const res = await postJson(ctx.app, `/v1/simulators/${id}/evaluate`, { runs: [runIds[6]] });
      assert.equal(res.status, 200);
    });
    await t.step("a cancelled fit leaves a cancelled simulator and no parameters", async () => {
      // Jobs run one at a time: behind this one, the fit is sure to be still queued.
      const blocker = ctx.jobs.submit(
        "blocker",
        null,
        (job) => new Promise((resolve) => job.signal.addEventListener("abort", resolve)),
      );
      try {
        const res = await postJson(ctx.app, "/v1/simulators", {
          study: "synthetic",
          kind: "linear",
          trainRuns: runIds.slice(0, 5),
        });
        const { simulator, job } = await res.json();
        assert.equal(ctx.jobs.get(job)!.status, "queued");
        const cancel = await ctx.app.request(`/v1/jobs/${job}`, { method: "DELETE" });
        assert.equal(cancel.status, 200);
        assert.equal((await cancel.json()).status, "cancelled");
        const after = await (await ctx.app.request(`/v1/simulators/${simulator.id}`)).json();
        assert.equal(after.status, "cancelled");
        assert.deepEqual(simulatorFiles(ctx.store, simulator.id), []);
        const sim = await postJson(ctx.app, `/v1/simulators/${simulator.id}/simulate`, {
          curriculum: [["e1"]],
        });
        assert.equal(sim.status, 409);
      } finally {
        ctx.jobs.cancel(blocker.id);
      }
    });
  } finally {
    await ctx.close();
  }
});
