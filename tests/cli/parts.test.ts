// The CLI's own pieces, without a service: the event-stream reader, the progress line, option
// parsing, and the NDJSON header rewrite that lets --study override a streamed file.
import assert from "node:assert/strict";
import { progressText } from "../../cli/follow.ts";
import { counts, list, selection } from "../../cli/ids.ts";
import { readSse } from "../../cli/sse.ts";
import { patchedNdjson } from "../../cli/upload.ts";

function streamOf(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return ReadableStream.from(pieces.map((p) => encoder.encode(p)));
}

Deno.test("readSse: events split anywhere across chunks, CRLF, comments and ids", async () => {
  const text = ': ping\r\n\r\nid: 7\r\nevent: progress\r\ndata: {"a":1}\r\n\r\n' +
    "event: done\ndata: line1\ndata: line2\n\n";
  // Every split point of the text into two chunks gives the same events.
  for (let cut = 0; cut <= text.length; cut += 3) {
    const events = [];
    for await (const e of readSse(streamOf([text.slice(0, cut), text.slice(cut)]))) events.push(e);
    assert.deepEqual(events, [
      { event: "progress", data: '{"a":1}', id: "7" },
      { event: "done", data: "line1\nline2", id: null },
    ], `cut at ${cut}`);
  }
});

Deno.test("progressText: phase, steps of the phase, loss, ETA and throughput", () => {
  assert.equal(
    progressText({
      phase: "run 1/2",
      fraction: 0.25,
      step: 12,
      total: 40,
      etaSeconds: 65,
      throughput: 1234.5,
      throughputUnit: "tokens",
      details: { trainLoss: 2.34567 },
    }),
    "run 1/2 · 12/40 · loss 2.346 · ETA 1m05s · 1235 tokens/s",
  );
  // Newer progress names the step count `steps` and its `unit`; a fraction rate is not shown.
  assert.equal(
    progressText({
      phase: "lambda-search",
      fraction: 0.5,
      step: 3,
      steps: 7,
      unit: "solves",
      etaSeconds: null,
      throughput: 0.1,
      throughputUnit: "fraction",
    }),
    "lambda-search · 3/7 solves",
  );
});

Deno.test("option values: lists, id=count pairs, counts or ids", () => {
  assert.deepEqual(list("a, b,,c", ["z"]), ["z", "a", "b", "c"]);
  assert.deepEqual(counts("e4=2,e7=0", { e1: 3 }), { e1: 3, e4: 2, e7: 0 });
  assert.throws(() => counts("e4"), /expected id=count/);
  assert.throws(() => counts("e4=x"), /expected id=count/);
  assert.equal(selection("32"), 32);
  assert.deepEqual(selection("a1,b2"), ["a1", "b2"]);
});

Deno.test("patchedNdjson: rewrites a header longer than a read, leaves the rest byte for byte", async () => {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-parts-" });
  try {
    // A header of ~200 KB arrives in several reads before its newline.
    const tests = Array.from({ length: 20_000 }, (_, j) => `test-${j}`);
    const header = { study: "old", name: "n", testExamples: tests, initialLosses: [] };
    const rest = '{"batch":["e1"],"losses":[1]}\n{"batch":[],"losses":[2]}\n';
    const path = `${dir}/run.ndjson`;
    await Deno.writeTextFile(path, JSON.stringify(header) + "\n" + rest);
    const body = await patchedNdjson(path, (h) => {
      h.study = "new";
    });
    const text = await new Response(body).text();
    const newline = text.indexOf("\n");
    assert.deepEqual(JSON.parse(text.slice(0, newline)), { ...header, study: "new" });
    assert.equal(text.slice(newline + 1), rest);

    // A file without a newline is all header; one that is not JSON goes as it is.
    await Deno.writeTextFile(path, "not json");
    assert.equal(await new Response(await patchedNdjson(path, () => {})).text(), "not json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
