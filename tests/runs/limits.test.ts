// The run limits (SIMFLUENCE_MAX_BATCH_SIZE, SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY) are checked on
// every upload format and on runs stored by the recorder, each a 413 naming the limit and where.
import assert from "node:assert/strict";
import { LOSS_FILE, TRAIN_FILE } from "../../src/runs/gptfluence_format.ts";
import { RUNS } from "../../src/runs/run_store.ts";
import { parseConfig } from "../../src/config.ts";
import { testApp } from "../helpers/app.ts";

const LIMITS = { SIMFLUENCE_MAX_BATCH_SIZE: "4", SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY: "6" };

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, k) => `${prefix}${k}`);

function jsonRun(name: string, batches: string[][]) {
  return {
    study: "s",
    name,
    testExamples: ["q"],
    steps: batches.map((batch) => ({ batch })),
    losses: Array.from({ length: batches.length + 1 }, () => [1]),
  };
}

function ndjsonRun(name: string, batches: string[][]): string {
  return [
    JSON.stringify({ study: "s", name, testExamples: ["q"], initialLosses: [1] }),
    ...batches.map((batch) => JSON.stringify({ batch, losses: [1] })),
  ].join("\n");
}

function gptfluenceForm(name: string, batches: string[][]): FormData {
  const form = new FormData();
  form.set("study", "s");
  form.set("name", name);
  form.set(
    TRAIN_FILE,
    new File(
      [batches.map((samples_id, t) => JSON.stringify({ step: t + 1, samples_id })).join("\n")],
      TRAIN_FILE,
    ),
  );
  const trajectory = Array.from({ length: batches.length + 1 }, (_, step) => ({ step, loss: 1 }));
  form.set(
    LOSS_FILE,
    new File([JSON.stringify({ id: "q", loss_trajectory: trajectory })], LOSS_FILE),
  );
  return form;
}

type Upload = (name: string, batches: string[][]) => { path: string; init: RequestInit };

const FORMATS: Record<string, Upload> = {
  json: (name, batches) => ({
    path: "/v1/runs",
    init: {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(jsonRun(name, batches)),
    },
  }),
  ndjson: (name, batches) => ({
    path: "/v1/runs",
    init: {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body: ndjsonRun(name, batches),
    },
  }),
  gptfluence: (name, batches) => ({
    path: "/v1/runs/import",
    init: { method: "POST", body: gptfluenceForm(name, batches) },
  }),
};

async function errorOf(res: Response) {
  const body = await res.json();
  return { status: res.status, ...body.error };
}

Deno.test("run limits: every upload format refuses a batch or a study over its limit", async (t) => {
  for (const [format, upload] of Object.entries(FORMATS)) {
    await t.step(
      `${format}: a batch over SIMFLUENCE_MAX_BATCH_SIZE is a 413 naming it`,
      async () => {
        const ctx = await testApp({ env: LIMITS });
        try {
          const { path, init } = upload("big-batch", [ids("a", 2), ids("b", 5)]);
          const error = await errorOf(await ctx.app.request(path, init));
          assert.equal(error.status, 413, JSON.stringify(error));
          assert.equal(error.code, "batch_too_large");
          assert.match(error.message, /SIMFLUENCE_MAX_BATCH_SIZE/);
          assert.match(error.message, /5 training ids; the limit is 4/);
          assert.equal(error.details.limit, 4);
          // Where: the field, and the line of the line-based formats.
          if (format === "json") assert.equal(error.details.field, "steps.1.batch");
          if (format === "ndjson") assert.equal(error.details.line, 3);
          if (format === "gptfluence") {
            assert.equal(error.details.file, TRAIN_FILE);
            assert.equal(error.details.line, 2);
          }
          assert.equal(ctx.store.get(RUNS).list({ limit: 10, offset: 0 }).total, 0);
        } finally {
          await ctx.close();
        }
      },
    );

    await t.step(
      `${format}: a study past SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY is a 413`,
      async () => {
        const ctx = await testApp({ env: LIMITS });
        try {
          // One run alone over the limit.
          const alone = upload("alone", [ids("a", 4), ids("b", 4)]);
          const error = await errorOf(await ctx.app.request(alone.path, alone.init));
          assert.equal(error.status, 413, JSON.stringify(error));
          assert.equal(error.code, "too_many_train_examples");
          assert.match(error.message, /SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY/);
          assert.equal(error.details.limit, 6);

          // Two runs that share ids fit; a third that brings new ones passes the study's limit.
          for (const name of ["first", "second"]) {
            const ok = upload(name, [ids("a", 4), ["a0", "c0"]]);
            const res = await ctx.app.request(ok.path, ok.init);
            assert.equal(res.status, 201, await res.text());
          }
          const third = upload("third", [["a0", "d0", "d1"]]);
          const over = await errorOf(await ctx.app.request(third.path, third.init));
          assert.equal(over.status, 413, JSON.stringify(over));
          assert.equal(over.code, "too_many_train_examples");
          assert.equal(over.details.distinct, 7);
          assert.equal(over.details.study, "s");
          assert.equal(ctx.store.get(RUNS).list({ limit: 10, offset: 0 }).total, 2);
        } finally {
          await ctx.close();
        }
      },
    );
  }
});

Deno.test("run limits: recorded runs keep to them too (the store checks every run)", async () => {
  const ctx = await testApp({ env: LIMITS });
  try {
    const runs = ctx.store.get(RUNS);
    const run = (name: string, batches: string[][]) => ({
      study: "s",
      name,
      testExamples: ["q"],
      steps: batches.map((batch) => ({ batch })),
      losses: new Float32Array(batches.length + 1).fill(1),
    });
    await assert.rejects(
      runs.create(run("wide", [ids("a", 5)]), "training"),
      (e: Error & { code?: string }) => e.code === "batch_too_large",
    );
    await runs.create(run("one", [ids("a", 4)]), "training");
    await assert.rejects(
      runs.create(run("two", [ids("b", 3)]), "training"),
      (e: Error & { code?: string }) =>
        e.code === "too_many_train_examples" &&
        /SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY/.test(e.message),
    );
    assert.equal(runs.list({ limit: 10, offset: 0 }).total, 1);
  } finally {
    await ctx.close();
  }
});

Deno.test("run limits: defaults and validation of the variables", () => {
  assert.deepEqual(parseConfig({}).runLimits, {
    maxBatchSize: 65_536,
    maxTrainIdsPerStudy: 1_000_000,
  });
  assert.throws(() => parseConfig({ SIMFLUENCE_MAX_BATCH_SIZE: "0" }), /SIMFLUENCE_MAX_BATCH_SIZE/);
  assert.throws(
    () => parseConfig({ SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY: "many" }),
    /SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY/,
  );
});
