// The NDJSON line splitter: the same lines as splitting the whole text, however the bytes are cut
// into chunks (inside UTF-8 sequences too); a line over the cap is a 413 naming it, raised before
// the rest of the body is read.
import assert from "node:assert/strict";
import fc from "fast-check";
import { DomainError } from "../../src/errors.ts";
import { ndjsonLines } from "../../src/runs/ndjson_format.ts";

function streamOf(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (const point of [...points, bytes.length]) {
    if (point > at) pieces.push(bytes.slice(at, point));
    at = Math.max(at, point);
  }
  return new ReadableStream({
    pull(controller) {
      const next = pieces.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

async function collect(body: ReadableStream<Uint8Array>, maxLineChars?: number) {
  const out: [number, string][] = [];
  for await (const line of ndjsonLines(body, maxLineChars)) out.push(line);
  return out;
}

Deno.test("ndjsonLines yields the lines of the whole text, whatever the chunking", async () => {
  const text = fc.array(
    fc.oneof(
      fc.string({ maxLength: 12, unit: "grapheme" }),
      fc.constantFrom("", " ", "\r", '{"a": "é€😀"}'),
    ),
    { maxLength: 12 },
  ).map((lines) => lines.join("\n"));
  await fc.assert(
    fc.asyncProperty(text, fc.array(fc.nat(), { maxLength: 10 }), async (t, cuts) => {
      const expected = t.split("\n")
        .map((line, i): [number, string] => [i + 1, line])
        .filter(([, line]) => line.trim() !== "");
      const got = await collect(streamOf(new TextEncoder().encode(t), cuts));
      assert.deepEqual(got, expected);
    }),
    { numRuns: 300 },
  );
});

Deno.test("a line over the cap is a 413 naming it, before the rest is read", async () => {
  let pulled = 0;
  const chunk = new TextEncoder().encode("x".repeat(1000));
  const endless = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"a": 1}\n\n'));
    },
    pull(controller) {
      pulled++;
      controller.enqueue(chunk);
    },
  });
  await assert.rejects(collect(endless, 10_000), (e: unknown) => {
    assert.ok(e instanceof DomainError);
    assert.equal(e.kind, "too_large");
    assert.deepEqual(e.details, { line: 3, limitChars: 10_000 });
    return true;
  });
  // 11 chunks pass the cap; the pipe reads a few ahead.
  assert.ok(pulled <= 20, `read ${pulled} chunks of an endless line`);
  // Exactly at the cap is fine, on the last line and before a newline alike.
  const exact = "y".repeat(100);
  assert.deepEqual(
    await collect(streamOf(new TextEncoder().encode(`${exact}\n${exact}`), [37, 150]), 100),
    [[1, exact], [2, exact]],
  );
});

Deno.test("a body of a million short lines is split in linear time", async () => {
  const line = new TextEncoder().encode('{"batch": ["e1"], "losses": [1]}\n');
  const total = 1_000_000;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      // 2,000 lines a chunk, the last one cut in half across chunks.
      const bytes = new Uint8Array(line.length * 2000);
      for (let i = 0; i < 2000; i++) bytes.set(line, i * line.length);
      controller.enqueue(bytes.subarray(0, bytes.length - 10));
      controller.enqueue(bytes.subarray(bytes.length - 10));
      sent += 2000;
    },
  });
  const started = performance.now();
  let count = 0;
  for await (const _ of ndjsonLines(body)) count++;
  const ms = performance.now() - started;
  assert.equal(count, total);
  assert.ok(ms < 10_000, `${ms.toFixed(0)} ms for a million lines`);
});
