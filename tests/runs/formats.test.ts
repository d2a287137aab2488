import assert from "node:assert/strict";
import { unzipSync } from "fflate";
import { ApiError, toApiError } from "../../src/http/api_error.ts";
import { runFromJson, type RunJson, runToJson } from "../../src/runs/json_format.ts";
import { runFromNdjson, runToNdjson } from "../../src/runs/ndjson_format.ts";
import {
  LOSS_FILE,
  runFromGptfluence,
  runToGptfluence,
  runToGptfluenceZip,
  TRAIN_FILE,
} from "../../src/runs/gptfluence_format.ts";
import { runShape } from "../../src/runs/run_input.ts";

function sampleJson(): RunJson {
  return {
    study: "s1",
    name: "run-1",
    testExamples: ["q1", "q2"],
    steps: [{ batch: ["e1", "e2"], lr: 0.1 }, { batch: ["e2", "e3", "e3"] }],
    losses: [[2, 3], [1.5, 2.5], [1.25, 2]],
  };
}

function streamOf(text: string, chunk = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

function rejectsWith(fn: () => unknown, field: RegExp): void {
  assert.throws(fn, (thrown: unknown) => {
    const e = toApiError(thrown);
    assert.ok(e instanceof ApiError, `expected an error that maps to ApiError, got ${thrown}`);
    assert.equal(e.status, 400);
    assert.match(e.message, field);
    return true;
  });
}

Deno.test("JSON runs convert to the stored form and back", () => {
  const run = runFromJson(sampleJson());
  assert.deepEqual(Array.from(run.losses), [2, 3, 1.5, 2.5, 1.25, 2]);
  assert.deepEqual(runShape(run), { steps: 2, testExamples: 2, distinctTrainExamples: 3 });
  assert.deepEqual(runToJson(run), sampleJson());
});

Deno.test("JSON run validation names the field at fault", async (t) => {
  const cases: [string, (b: RunJson) => void, RegExp][] = [
    ["negative loss", (b) => (b.losses[1][1] = -0.5), /losses\.1\.1.*negative/],
    ["ragged row", (b) => b.losses[2].pop(), /losses\.2.*1 losses but there are 2/],
    ["row count", (b) => b.losses.pop(), /losses.*2 rows but 2 steps need 3/],
    ["empty batch", (b) => (b.steps[1].batch = []), /steps\.1\.batch.*empty/],
    ["long id", (b) => (b.steps[0].batch[1] = "x".repeat(257)), /steps\.0\.batch\.1.*257/],
    ["long test id", (b) => (b.testExamples[0] = "q".repeat(300)), /testExamples\.0/],
    ["duplicate test id", (b) => (b.testExamples[1] = "q1"), /testExamples\.1.*twice/],
    ["negative lr", (b) => (b.steps[0].lr = -1), /steps\.0\.lr/],
    ["no steps", (b) => ((b.steps = []), (b.losses = [[1, 1]])), /steps.*at least one/],
  ];
  for (const [name, mutate, pattern] of cases) {
    await t.step(name, () => {
      const body = sampleJson();
      mutate(body);
      rejectsWith(() => runFromJson(body), pattern);
    });
  }
});

Deno.test("NDJSON runs stream in, every error names its line", async (t) => {
  const run = runFromJson(sampleJson());
  const text = [...runToNdjson(run)].join("");
  await t.step("round trip across chunk boundaries", async () => {
    const parsed = await runFromNdjson(streamOf(text, 5));
    assert.deepEqual(runToJson(parsed), sampleJson());
  });
  const lines = text.trim().split("\n");
  const bad: [string, string[], RegExp][] = [
    ["malformed JSON", [lines[0], "{oops", lines[2]], /line 2: malformed JSON/],
    ["string loss", [lines[0], lines[1].replace("1.5", '"NaN"'), lines[2]], /line 2.*finite/],
    ["ragged", [lines[0], lines[1], lines[2].replace(",2]", "]")], /line 3.*1 losses/],
    ["unknown field", [lines[0], lines[1].replace("{", '{"bogus":1,'), lines[2]], /line 2.*bogus/],
    ["empty batch", [lines[0], lines[1].replace('["e1","e2"]', "[]"), lines[2]], /line 2.*empty/],
    ["header missing ids", [lines[0].replace('"testExamples"', '"tests"')], /line 1/],
  ];
  for (const [name, input, pattern] of bad) {
    await t.step(name, async () => {
      await assert.rejects(runFromNdjson(streamOf(input.join("\n"))), (thrown: unknown) => {
        const e = toApiError(thrown);
        assert.ok(e instanceof ApiError);
        assert.match(e.message, pattern);
        return true;
      });
    });
  }
  await t.step("empty body", async () => {
    await assert.rejects(runFromNdjson(streamOf("\n\n")), /empty body/);
  });
});

Deno.test("GPTfluence layout imports, exports and round-trips", async (t) => {
  const train = [
    '{"step": 2, "samples_id": [7, 3]}',
    '{"step": 1, "samples_id": [1, 2]}',
  ].join("\n");
  const loss = [
    '{"id": 10, "loss_trajectory": [{"step": 1, "loss": 1.5}, {"step": 0, "loss": 2}, {"step": 2, "loss": 1.0}]}',
    '{"id": "q", "loss_trajectory": [{"step": 0, "loss": 3}, {"step": 1, "loss": 2.5}, {"step": 2, "loss": 2.25}]}',
  ].join("\n");
  const run = runFromGptfluence("s", "r", train, loss);
  await t.step("numeric ids become strings; steps are ordered", () => {
    assert.deepEqual(run.testExamples, ["10", "q"]);
    assert.deepEqual(run.steps.map((s) => s.batch), [["1", "2"], ["7", "3"]]);
    assert.deepEqual(Array.from(run.losses), [2, 3, 1.5, 2.5, 1, 2.25]);
  });
  await t.step("export gives back equivalent files", () => {
    const out = runToGptfluence(run);
    const again = runFromGptfluence("s", "r", out.train, out.loss);
    assert.deepEqual(again, run);
    assert.equal(JSON.parse(out.train.split("\n")[0]).samples_id[0], 1);
    assert.equal(JSON.parse(out.loss.split("\n")[1]).id, "q");
  });
  await t.step("zip holds both files", () => {
    const files = unzipSync(runToGptfluenceZip(run));
    assert.deepEqual(Object.keys(files).sort(), [LOSS_FILE, TRAIN_FILE].sort());
  });
  await t.step("errors name the file and line", () => {
    rejectsWith(
      () => runFromGptfluence("s", "r", train + "\n{bad", loss),
      /train_samples_id\.json line 3/,
    );
    rejectsWith(
      () => runFromGptfluence("s", "r", '{"step": 1, "samples_id": [1]}', loss),
      /all_loss_trajectory\.out line 1: step 2 has no batch/,
    );
    const gap = loss.replace('{"step": 1, "loss": 2.5}, ', "").replace(
      '"step": 2, "loss": 2.25',
      '"step": 3, "loss": 2.25',
    );
    rejectsWith(
      () => runFromGptfluence("s", "r", train, gap),
      /line 2: test example "q" was recorded at other steps/,
    );
    rejectsWith(
      () => runFromGptfluence("s", "r", train, loss.replace('"loss": 1.0', '"loss": -1')),
      /all_loss_trajectory\.out line 1: loss_trajectory\.2\.loss must be finite and >= 0/,
    );
  });
});
