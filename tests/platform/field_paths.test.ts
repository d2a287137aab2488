// One form of field path everywhere: `details.field` is dotted, with array positions as plain
// segments (`losses.1.0`, `steps.0.batch.1`, `trainRuns.2`), whether zod found the fault or a
// service's own check did, so a client can split it on "." and walk its request.
import assert from "node:assert/strict";
import { inlineExamples } from "../../src/influence/inputs.ts";
import { testApp } from "../helpers/app.ts";

type App = Awaited<ReturnType<typeof testApp>>["app"];

const DOTTED = /^[A-Za-z_]\w*(\.(\w+|\d+))*$/;

function send(app: App, path: string, body: unknown, type = "application/json") {
  return app.request(path, {
    method: "POST",
    headers: { "content-type": type },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function run(overrides: Record<string, unknown> = {}) {
  return {
    study: "s1",
    name: "r",
    testExamples: ["q1", "q2"],
    steps: [{ batch: ["e1", "e2"] }, { batch: ["e2"] }],
    losses: [[2, 3], [1.5, 2.5], [1, 2]],
    ...overrides,
  };
}

const CONFIG = { vocab_size: 257, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 };

/** [what, request, the field it must name]; zod's checks and the services' own, mixed. */
const CASES: [string, (app: App) => Promise<Response> | Response, string][] = [
  [
    "a loss that is not a number (zod)",
    (app) => send(app, "/v1/runs", run({ losses: [[2, 3], [1.5, "x"], [1, 2]] })),
    "losses.1.1",
  ],
  [
    "a negative loss (the run's check)",
    (app) => send(app, "/v1/runs", run({ losses: [[2, 3], [1.5, -1], [1, 2]] })),
    "losses.1.1",
  ],
  [
    "a ragged loss row",
    (app) => send(app, "/v1/runs", run({ losses: [[2, 3], [1.5], [1, 2]] })),
    "losses.1",
  ],
  [
    "a batch that is not an array (zod)",
    (app) => send(app, "/v1/runs", run({ steps: [{ batch: "e1" }, { batch: ["e2"] }] })),
    "steps.0.batch",
  ],
  [
    "an empty batch",
    (app) => send(app, "/v1/runs", run({ steps: [{ batch: ["e1"] }, { batch: [] }] })),
    "steps.1.batch",
  ],
  [
    "a training id with a control character",
    (app) =>
      send(app, "/v1/runs", run({ steps: [{ batch: ["e1", "e\u0007"] }, { batch: ["e2"] }] })),
    "steps.0.batch.1",
  ],
  [
    "a negative learning rate",
    (app) => send(app, "/v1/runs", run({ steps: [{ batch: ["e1"], lr: -1 }, { batch: ["e2"] }] })),
    "steps.0.lr",
  ],
  [
    "a test example listed twice",
    (app) => send(app, "/v1/runs", run({ testExamples: ["q1", "q1"] })),
    "testExamples.1",
  ],
  ["an NDJSON step's bad training id", (app) =>
    send(
      app,
      "/v1/runs",
      `${JSON.stringify({ study: "s1", name: "r", testExamples: ["q1"], initialLosses: [2] })}\n` +
        `${JSON.stringify({ batch: ["e1", ""], losses: [1] })}\n`,
      "application/x-ndjson",
    ), "step.batch.1"],
  [
    "a fitting run that does not exist",
    (app) => send(app, "/v1/simulators", { study: "s1", kind: "linear", trainRuns: ["r", "nope"] }),
    "trainRuns.1",
  ],
  [
    "a fitting run that is not a string (zod)",
    (app) => send(app, "/v1/simulators", { study: "s1", kind: "linear", trainRuns: ["r", 7] }),
    "trainRuns.1",
  ],
  [
    "a model config value of the wrong type (zod)",
    (app) => send(app, "/v1/models", { config: { ...CONFIG, n_embd: "eight" } }),
    "config.n_embd",
  ],
  [
    "a query parameter that is not a number (zod)",
    (app) => app.request("/v1/runs?limit=many"),
    "limit",
  ],
];

Deno.test("field paths: one dotted form, from zod and from the services alike", async (t) => {
  const ctx = await testApp();
  try {
    // One stored run, so that the simulator cases reach the run lookup.
    assert.equal((await send(ctx.app, "/v1/runs", run())).status, 201);
    const fields: string[] = [];
    for (const [what, request, expected] of CASES) {
      await t.step(what, async () => {
        const res = await request(ctx.app);
        const text = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${text}`);
        const { error } = JSON.parse(text);
        assert.equal(error.details.field, expected, text);
        // The message names the field in the same form.
        assert.ok(error.message.includes(expected), error.message);
        fields.push(error.details.field);
      });
    }
    await t.step("inline examples with one id twice name the second one's id", () => {
      const examples = [{ id: "a", text: "x" }, { id: "a", text: "y" }];
      assert.throws(
        () => inlineExamples(examples, "queries"),
        (e: { details: { field: string } }) => {
          fields.push(e.details.field);
          return e.details.field === "queries.1.id";
        },
      );
    });
    await t.step("every field collected has the one form", () => {
      assert.ok(fields.length >= CASES.length, `only ${fields.length} fields`);
      const odd = fields.filter((field) => !DOTTED.test(field));
      assert.deepEqual(odd, []);
    });
  } finally {
    await ctx.close();
  }
});
