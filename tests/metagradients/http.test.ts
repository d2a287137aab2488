// Metagradients over HTTP, end to end on a tiny model: a base run recorded twice gives the same
// bits (replay is deterministic), mask runs weigh a seeded fraction of its ids 0 and keep their
// slots, POST /v1/influence/metagradients replays and reverses the run into a "magic" score set
// that equals the engine's −τ, and every reason a run cannot be replayed is a 409 that says why.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { computeMetagradients } from "../../src/metagradients/engine.ts";
import { loadReplayableRun } from "../../src/metagradients/replay.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 2, n_head: 2 };

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function finish(app: AppLike, job: string) {
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text())
    .filter((e) => e.event !== "comment");
  return { events, last: events.at(-1)!, data: JSON.parse(events.at(-1)!.data) };
}

async function record(app: AppLike, body: Record<string, unknown>): Promise<string[]> {
  const res = await postJson(app, "/v1/training-runs", body);
  assert.equal(res.status, 202, await res.clone().text());
  const { last, data } = await finish(app, (await res.json()).job);
  assert.equal(last.event, "done", last.data);
  return data.result.runs.map((r: { id: string }) => r.id);
}

const runJson = async (app: AppLike, id: string) =>
  await (await app.request(`/v1/runs/${id}?format=json`)).json();

Deno.test(
  "metagradients over HTTP: replay, mask runs, magic scores, refusals",
  gpuTest,
  async (t) => {
    const runtime = await testRuntime();
    const gpu = gpuFromRuntime(runtime, () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    try {
      const created = await postJson(ctx.app, "/v1/models", { config: TINY, seed: 1 });
      const model = (await created.json()).id as string;
      const base = {
        study: "magic",
        model,
        dataset: "builtin:skills",
        trainExamples: 10,
        testExamples: 3,
        runs: 1,
        steps: 5,
        batchSize: 4,
        optimizer: { kind: "adamw", lr: 0.003, epsRoot: 1e-8 },
        seed: 4,
      };
      const [first] = await record(ctx.app, { ...base, namePrefix: "a" });
      const [second] = await record(ctx.app, { ...base, namePrefix: "b" });

      await t.step("recording the same request twice gives the same bits", async () => {
        const [a, b] = [await runJson(ctx.app, first), await runJson(ctx.app, second)];
        assert.deepEqual(a.steps, b.steps);
        assert.deepEqual(a.losses, b.losses);
        assert.notDeepEqual(a.losses.at(-1), a.losses[0], "training moved the losses");
      });

      let masks: string[] = [];
      await t.step(
        "mask runs keep the base run's batches and weigh a fraction of ids 0",
        async () => {
          masks = await record(ctx.app, {
            study: "magic",
            curriculum: { kind: "mask", baseRun: first, dropFraction: 0.2 },
            runs: 2,
            seed: 9,
            namePrefix: "mask",
          });
          const baseSteps = (await runJson(ctx.app, first)).steps;
          const distinct = new Set(baseSteps.flatMap((s: { batch: string[] }) => s.batch));
          for (const id of masks) {
            const run = await runJson(ctx.app, id);
            assert.deepEqual(
              run.steps.map((s: { batch: string[] }) => s.batch),
              baseSteps.map((s: { batch: string[] }) => s.batch),
            );
            const dropped = new Set<string>();
            for (const step of run.steps) {
              step.weights?.forEach((w: number, k: number) =>
                w === 0 && dropped.add(step.batch[k])
              );
            }
            assert.equal(dropped.size, Math.round(0.2 * distinct.size));
          }
          const refused = await postJson(ctx.app, "/v1/training-runs", {
            study: "magic",
            model,
            curriculum: { kind: "mask", baseRun: first, dropFraction: 0.2 },
            runs: 1,
          });
          assert.equal(refused.status, 400);
          assert.equal((await refused.json()).error.details.field, "model");
        },
      );

      await t.step("metagradient scores equal the engine's −τ", async () => {
        const queries = {
          dataset: "builtin:skills",
          ids: (await runJson(ctx.app, first)).testExamples.slice(0, 2),
        };
        const res = await postJson(ctx.app, "/v1/influence/metagradients", { run: first, queries });
        assert.equal(res.status, 202, await res.clone().text());
        const { scores, job } = await res.json();
        const { events, last } = await finish(ctx.app, job);
        assert.equal(last.event, "done", last.data);
        const phases = new Set(
          events.filter((e) => e.event === "progress").map((e) => JSON.parse(e.data).phase),
        );
        assert.ok(phases.has("forward") && phases.has("reverse"));
        const record = await (await ctx.app.request(`/v1/influence/scores/${scores.id}`)).json();
        assert.equal(record.method, "magic");
        const matrix = await (await ctx.app.request(`/v1/influence/scores/${scores.id}/matrix`))
          .json();
        const replay = await loadReplayableRun(ctx.store, first);
        const direct = await computeMetagradients(runtime, {
          initial: replay.initial,
          optimizer: replay.recipe.optimizer,
          steps: replay.steps,
          queries: queries.ids.map((id: string) => {
            const probe = replay.probe.batches[0];
            const row = replay.stored.run.testExamples.indexOf(id);
            const T = probe.T;
            return {
              B: 1,
              T,
              tokens: Array.from(probe.tokens).slice(row * T, (row + 1) * T),
              attentionMask: Array.from(probe.attentionMask!).slice(row * T, (row + 1) * T),
              lossMask: Array.from(probe.lossMask!).slice(row * T, (row + 1) * T),
            };
          }),
        });
        assert.ok(direct.replayError <= 1e-5);
        const flat: number[] = matrix.scores.flat();
        const largest = Math.max(...flat.map(Math.abs));
        assert.ok(largest > 0);
        direct.trainIds.forEach((id, i) => {
          const column = matrix.train.indexOf(id);
          for (let q = 0; q < 2; q++) {
            const expected = -direct.tau[q * direct.trainIds.length + i];
            assert.ok(Math.abs(matrix.scores[q][column] - expected) <= 1e-4 * largest, `${id}`);
          }
        });
      });

      await t.step("a cancelled metagradient job resumes as a new job to the end", async () => {
        const res = await postJson(ctx.app, "/v1/influence/metagradients", {
          run: first,
          queries: { examples: [{ id: "q", text: "12 + 5 = 17" }] },
          checkpointing: "log",
        });
        const { job } = await res.json();
        await ctx.app.request(`/v1/jobs/${job}`, { method: "DELETE" });
        assert.equal((await finish(ctx.app, job)).last.event, "cancelled");
        const resumed = await ctx.app.request(`/v1/jobs/${job}/resume`, { method: "POST" });
        assert.equal(resumed.status, 202, await resumed.clone().text());
        const again = await resumed.json();
        const { last } = await finish(ctx.app, again.job);
        assert.equal(last.event, "done", last.data);
        const record = await (await ctx.app.request(`/v1/influence/scores/${again.scores}`)).json();
        assert.equal(record.status, "ready");
      });

      await t.step("runs that cannot be replayed, and bad queries, are refused", async () => {
        const body = (run: string, extra = {}) => ({
          run,
          queries: { examples: [{ id: "q", text: "12 + 5 = 17" }] },
          ...extra,
        });
        const unknown = await postJson(ctx.app, "/v1/influence/metagradients", body("nope"));
        assert.equal(unknown.status, 404);
        const exported = await runJson(ctx.app, first);
        const uploaded = await postJson(ctx.app, "/v1/runs", { ...exported, name: "uploaded" });
        assert.equal(uploaded.status, 201, await uploaded.clone().text());
        const uploadedId = (await uploaded.json()).id;
        const refused = await postJson(ctx.app, "/v1/influence/metagradients", body(uploadedId));
        assert.equal(refused.status, 409);
        const records = await Promise.all(
          [first, uploadedId].map(async (id) =>
            await (await ctx.app.request(`/v1/runs/${id}`)).json()
          ),
        );
        assert.deepEqual(records.map((r) => r.replayable), [true, false]);
        assert.deepEqual([records[0].dataset, records[1].dataset], ["builtin:skills", null]);
        const error = (await refused.json()).error;
        assert.equal(error.code, "run_not_replayable");
        assert.match(error.message, /recorded before data weights/);
        const many = await postJson(ctx.app, "/v1/influence/metagradients", {
          run: first,
          queries: {
            examples: Array.from({ length: 65 }, (_, i) => ({ id: `q${i}`, text: "1 + 1 = 2" })),
          },
        });
        assert.equal(many.status, 400);
        assert.equal((await many.json()).error.code, "too_many_queries");
        const long = await postJson(ctx.app, "/v1/influence/metagradients", {
          run: first,
          queries: { examples: [{ id: "long", text: "x".repeat(200) }] },
        });
        assert.equal(long.status, 400);
        assert.match((await long.json()).error.details.field, /^queries/);
      });

      await t.step("a replay that does not reproduce the recorded losses is refused", async () => {
        // Another learning rate than the recorded one: the replay leaves the recorded trajectory.
        ctx.store.db.prepare(
          "UPDATE runs SET training = replace(training, '0.003', '0.004') WHERE id = ?",
        )
          .run(second);
        const res = await postJson(ctx.app, "/v1/influence/metagradients", {
          run: second,
          queries: { examples: [{ id: "q", text: "12 + 5 = 17" }] },
        });
        assert.equal(res.status, 202);
        const { last } = await finish(ctx.app, (await res.json()).job);
        assert.equal(last.event, "failed");
        assert.match(last.data, /replay_mismatch|does not reproduce/);
      });

      await t.step("a run whose model was deleted is a 409", async () => {
        assert.equal(
          (await ctx.app.request(`/v1/models/${model}`, { method: "DELETE" })).status,
          204,
        );
        const res = await postJson(ctx.app, "/v1/influence/metagradients", {
          run: masks[0],
          queries: { examples: [{ id: "q", text: "12 + 5 = 17" }] },
        });
        assert.equal(res.status, 409);
        assert.equal((await res.json()).error.code, "run_model_deleted");
        // A mask request over that run says the same, naming the curriculum's base run.
        const mask = await postJson(ctx.app, "/v1/training-runs", {
          study: "magic",
          curriculum: { kind: "mask", baseRun: masks[0], dropFraction: 0.2 },
          runs: 1,
        });
        assert.equal(mask.status, 409);
        const error = (await mask.json()).error;
        assert.deepEqual([error.code, error.details.field], [
          "run_model_deleted",
          "curriculum.baseRun",
        ]);
      });
    } finally {
      await ctx.close();
    }
  },
);
