// Influence on a trained model in one step: factors fitted on a recorded run's checkpoint
// ({"run", "step"}, as POST /v1/gradients takes), checked against the same weights uploaded as a
// model; scores from them (with the checkpoint as an optional check); the `untrained_model`
// warning on factors of a never-trained model and on their scores, and not on a checkpoint's; and
// every bad run or step as a 4xx naming the field that stores nothing. Tiny shapes: llvmpipe.
import assert from "node:assert/strict";
import { gpuFromRuntime } from "../../src/gpu/handle.ts";
import { INFLUENCE } from "../../src/influence/store.ts";
import { parseSse, testApp } from "../helpers/app.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

type AppLike = { request: (p: string, i?: RequestInit) => Response | Promise<Response> };
type Module = { name: string; meanEigenvalue: number };

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };
const IDS_COUNT = 6;
const QUERIES = { examples: [{ id: "q", prompt: "add 2 3=", completion: "5" }] };

function postJson(app: AppLike, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Waits for a job; its final event's data. */
async function finish(app: AppLike, job: string) {
  const events = parseSse(await (await app.request(`/v1/jobs/${job}/events`)).text())
    .filter((e) => e.event !== "comment");
  assert.equal(events.at(-1)!.event, "done", events.at(-1)!.data);
  return JSON.parse(events.at(-1)!.data);
}

/** A 202's body: the score set as started, and its job. */
async function startedScores(res: Response) {
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  return body as { job: string; scores: { id: string; warnings: { code: string }[] } };
}

async function errorOf(res: Response, status: number) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  return body.error as { code: string; message: string; details: Record<string, unknown> };
}

/** Fits factors (empirical Fisher: no sampled labels) and waits; the ready record. */
async function fitFactors(app: AppLike, weights: Record<string, unknown>, ids: string[]) {
  const res = await postJson(app, "/v1/influence/factors", {
    ...weights,
    dataset: "builtin:skills",
    ids,
    fisher: "empirical",
  });
  const body = await res.json();
  assert.equal(res.status, 202, JSON.stringify(body));
  await finish(app, body.job);
  const got = await (await app.request(`/v1/influence/factors/${body.factors.id}`)).json();
  assert.equal(got.status, "ready");
  return { started: body.factors, got };
}

/** The largest relative difference between two factor records' mean eigenvalues. */
function eigenvalueDifference(a: Module[], b: Module[]): number {
  assert.deepEqual(a.map((m) => m.name), b.map((m) => m.name));
  return Math.max(
    ...a.map((m, i) => Math.abs(m.meanEigenvalue - b[i].meanEigenvalue) / m.meanEigenvalue),
  );
}

Deno.test(
  "influence on a run's checkpoint: factors, scores, warnings, refusals",
  gpuTest,
  async (t) => {
    const gpu = gpuFromRuntime(await testRuntime(), () => ({}), { ownsRuntime: false });
    const ctx = await testApp({ gpu });
    const { app, store } = ctx;
    const records = () =>
      store.get(INFLUENCE).list("factors", 100, 0).total +
      store.get(INFLUENCE).list("scores", 100, 0).total;
    try {
      const created = await postJson(app, "/v1/models", { config: TINY, seed: 1 });
      assert.equal(created.status, 201);
      const model = (await created.json()).id as string;
      const recorded = await postJson(app, "/v1/training-runs", {
        study: "trained",
        model,
        dataset: "builtin:skills",
        trainExamples: IDS_COUNT,
        testExamples: 2,
        runs: 1,
        steps: 4,
        batchSize: 3,
        optimizer: { kind: "adamw", lr: 0.05 },
        seed: 3,
        checkpointEvery: 2,
      });
      assert.equal(recorded.status, 202, await recorded.clone().text());
      const run = (await finish(app, (await recorded.json()).job)).result.runs[0].id as string;
      const exported = await (await app.request(`/v1/runs/${run}?format=json`)).json();
      const ids = [...new Set((exported.steps as { batch: string[] }[]).flatMap((s) => s.batch))]
        .sort();

      let atInit: Awaited<ReturnType<typeof fitFactors>>;
      let atStep4: Awaited<ReturnType<typeof fitFactors>>;

      await t.step(
        "factors of the never-trained model carry the untrained_model warning",
        async () => {
          atInit = await fitFactors(app, { model }, ids);
          for (const shown of [atInit.started, atInit.got]) {
            assert.equal(shown.warnings.length, 1, JSON.stringify(shown.warnings));
            assert.equal(shown.warnings[0].code, "untrained_model");
            assert.match(shown.warnings[0].message, /untrained model is rarely meaningful/);
          }
          assert.deepEqual(atInit.got.source, { model });
        },
      );

      await t.step("factors from {run, step}: the checkpoint's weights, no warning", async () => {
        atStep4 = await fitFactors(app, { run, step: 4 }, ids);
        assert.deepEqual(atStep4.got.warnings, []);
        assert.deepEqual(atStep4.got.source, { run, step: 4, tokenizer: `model ${model}` });
        assert.equal(atStep4.got.model, `run:${run}@4`);
        assert.equal(atStep4.got.examples, ids.length);
        // Training moved the weights, so the curvature differs from the initial model's.
        const moved = eigenvalueDifference(atInit.got.modules, atStep4.got.modules);
        assert.ok(moved > 1e-3, `factors at step 4 equal those at init (${moved})`);
        // The same weights uploaded as a model give the same factors: the checkpoint was used.
        const bytes = await (await app.request(`/v1/runs/${run}/checkpoints/4`)).arrayBuffer();
        const form = new FormData();
        form.set("model.safetensors", new File([bytes], "model.safetensors"));
        form.set("config.json", new File([JSON.stringify(TINY)], "config.json"));
        const uploaded = await app.request("/v1/models", { method: "POST", body: form });
        assert.equal(uploaded.status, 201, await uploaded.clone().text());
        const same = await fitFactors(app, { model: (await uploaded.json()).id }, ids);
        assert.deepEqual(same.got.warnings, [], "an uploaded checkpoint counts as trained");
        const differs = eigenvalueDifference(atStep4.got.modules, same.got.modules);
        assert.ok(differs < 1e-5, `factors of the same weights differ by ${differs}`);
      });

      await t.step("scores accept checkpoint factors and carry the factors' warnings", async () => {
        const fromCheckpoint = await startedScores(
          await postJson(app, "/v1/influence/scores", {
            factors: atStep4.got.id,
            queries: QUERIES,
            run,
            step: 4,
          }),
        );
        await finish(app, fromCheckpoint.job);
        const shown = await (await app.request(`/v1/influence/scores/${fromCheckpoint.scores.id}`))
          .json();
        assert.equal(shown.status, "ready");
        assert.deepEqual(shown.warnings, []);
        assert.equal(shown.model, `run:${run}@4`);
        const matrix = await (await app.request(
          `/v1/influence/scores/${fromCheckpoint.scores.id}/matrix`,
        )).json();
        assert.deepEqual(matrix.train, ids);
        assert.ok(matrix.scores[0].every((v: number) => Number.isFinite(v)));
        // Per-token reading resolves the checkpoint's tokenizer too.
        const tokens = await app.request(
          `/v1/influence/scores/${fromCheckpoint.scores.id}/tokens?query=q&train=${ids[0]}`,
        );
        assert.equal(tokens.status, 409, "computed without perToken: a 409, not a 500");

        const fromInit = await startedScores(
          await postJson(app, "/v1/influence/scores", { factors: atInit.got.id, queries: QUERIES }),
        );
        assert.equal(fromInit.scores.warnings.length, 1);
        await finish(app, fromInit.job);
        const initShown = await (await app.request(`/v1/influence/scores/${fromInit.scores.id}`))
          .json();
        assert.equal(initShown.warnings[0].code, "untrained_model");
      });

      await t.step("a bad run or step is a 4xx naming the field, and stores nothing", async () => {
        const before = records();
        const base = { dataset: "builtin:skills", ids };
        const factors = (body: Record<string, unknown>) =>
          postJson(app, "/v1/influence/factors", { ...base, ...body });
        const cases: [Record<string, unknown>, number, string][] = [
          [{ run: "no-such-run", step: 4 }, 404, "run"],
          [{ run, step: 3 }, 404, "step"],
          [{ run }, 400, "step"],
          [{ step: 4 }, 400, "run"],
          [{ model, run, step: 4 }, 400, "run"],
          [{}, 400, "model"],
          [{ run, step: -1 }, 400, "step"],
        ];
        for (const [body, status, field] of cases) {
          const error = await errorOf(await factors(body), status);
          assert.equal(error.details.field, field, `${JSON.stringify(body)}: ${error.message}`);
        }
        const missing = await errorOf(await factors({ run, step: 3 }), 404);
        assert.match(missing.message, /step 3/);

        const scores = (body: Record<string, unknown>) =>
          postJson(app, "/v1/influence/scores", {
            factors: atStep4.got.id,
            queries: QUERIES,
            ...body,
          });
        const otherStep = await errorOf(await scores({ run, step: 2 }), 400);
        assert.equal(otherStep.code, "factors_of_another_model");
        assert.equal(otherStep.details.field, "run");
        assert.match(otherStep.message, /step 4 of run .* not step 2 of run/);
        const otherModel = await errorOf(await scores({ model }), 400);
        assert.equal(otherModel.details.field, "model");
        assert.equal((await errorOf(await scores({ run }), 400)).details.field, "step");
        assert.equal(
          (await errorOf(await scores({ model, run, step: 4 }), 400)).details.field,
          "run",
        );
        assert.equal(records(), before, "nothing was stored");
      });
    } finally {
      await ctx.close();
    }
  },
);
