// A name already taken is one error everywhere: 409 `name_taken`, `details.field` naming the
// field and `details.existing` the id that holds the name (runs, datasets, models). Recorded
// training runs (whose names come from `namePrefix`) raise the same code; that path needs a GPU
// and is covered by tests/training/http.test.ts.
import assert from "node:assert/strict";
import { testApp } from "../helpers/app.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];

function postJson(app: App, path: string, body: unknown) {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function takenError(res: Response) {
  assert.equal(res.status, 409);
  const { error } = await res.json();
  return [error.code, error.details.field, error.details.existing];
}

const RUN = {
  study: "demo",
  name: "run-1",
  testExamples: ["q1"],
  steps: [{ batch: ["e1"] }],
  losses: [[2], [1]],
};

Deno.test("a taken name is a 409 name_taken for runs, datasets and models", async () => {
  const ctx = await testApp();
  try {
    const run = await (await postJson(ctx.app, "/v1/runs", RUN)).json();
    assert.deepEqual(await takenError(await postJson(ctx.app, "/v1/runs", RUN)), [
      "name_taken",
      "name",
      run.id,
    ]);
    // The same name in another study is free.
    assert.equal((await postJson(ctx.app, "/v1/runs", { ...RUN, study: "other" })).status, 201);

    const upload = () =>
      ctx.app.request("/v1/datasets?name=notes", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: '{"text": "one"}\n',
      });
    const dataset = await (await upload()).json();
    assert.deepEqual(await takenError(await upload()), ["name_taken", "name", dataset.id]);

    const config = { vocab_size: 257, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 };
    const model = await (await postJson(ctx.app, "/v1/models", { config, name: "tiny" })).json();
    assert.deepEqual(
      await takenError(await postJson(ctx.app, "/v1/models", { config, name: "tiny" })),
      ["name_taken", "name", model.id],
    );
  } finally {
    await ctx.close();
  }
});
