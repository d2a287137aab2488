// Encoding examples: which tokens are labels, right padding, and the 400s for examples the model
// cannot take.
import assert from "node:assert/strict";
import { toApiError } from "../../src/http/api_error.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { BYTE_VOCAB_SIZE, END_OF_TEXT } from "../../src/text/byte_tokenizer.ts";
import { buildBatch, encodeExample, encodeExamples } from "../../src/training/encode.ts";
import { TrainingInputError } from "../../src/training/errors.ts";
import { byteTokenizer, type TextTokenizer } from "../../src/text/tokenizer.ts";

const config = parseGpt2Config({
  vocab_size: BYTE_VOCAB_SIZE,
  n_positions: 12,
  n_embd: 8,
  n_layer: 1,
  n_head: 2,
});
const bytes = (s: string) => Array.from(new TextEncoder().encode(s));

function expectError(fn: () => unknown, code: string): TrainingInputError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TrainingInputError, `expected TrainingInputError, got ${e}`);
    assert.equal(e.code, code);
    const api = toApiError(e);
    assert.equal(api?.status, 400);
    assert.equal(api?.code, code);
    return e;
  }
  assert.fail(`expected ${code}`);
}

Deno.test("text examples: every token is a label, no end-of-text", () => {
  const e = encodeExample({ id: "t", text: "héllo" }, byteTokenizer, config);
  assert.deepEqual(e.tokens, bytes("héllo"));
  assert.deepEqual(e.lossMask, e.tokens.map(() => 1));
});

Deno.test("prompt → completion: only the completion and end-of-text are labels", () => {
  const e = encodeExample({ id: "p", prompt: "ab>", completion: "cd" }, byteTokenizer, config);
  assert.deepEqual(e.tokens, [...bytes("ab>cd"), END_OF_TEXT]);
  assert.deepEqual(e.lossMask, [0, 0, 0, 1, 1, 1]);
  // A tokenizer without end-of-text appends nothing.
  const plain: TextTokenizer = { ...byteTokenizer, endOfText: null };
  const f = encodeExample({ id: "p", prompt: "ab>", completion: "cd" }, plain, config);
  assert.deepEqual(f.tokens, bytes("ab>cd"));
  assert.deepEqual(f.lossMask, [0, 0, 0, 1, 1]);
});

Deno.test("batches are right-padded to the longest example; padding is neither seen nor counted", () => {
  const encoded = encodeExamples(
    [
      { id: "a", prompt: "xy", completion: "z" }, // 4 tokens, 2 labels
      { id: "b", text: "hello!" }, // 6 tokens
      { id: "c", text: "ab" }, // 2 tokens
    ],
    byteTokenizer,
    config,
  );
  const batch = buildBatch(encoded);
  assert.equal(batch.B, 3);
  assert.equal(batch.T, 6);
  assert.deepEqual(Array.from(batch.attentionMask!), [
    ...[1, 1, 1, 1, 0, 0],
    ...[1, 1, 1, 1, 1, 1],
    ...[1, 1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(Array.from(batch.lossMask!), [
    ...[0, 0, 1, 1, 0, 0],
    ...[1, 1, 1, 1, 1, 1],
    ...[1, 1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(Array.from(batch.tokens).slice(0, 6), [...bytes("xyz"), END_OF_TEXT, 0, 0]);
  // What the model counts: completion tokens only (z and end-of-text), all of "hello!" but its
  // first token (nothing predicts it), and one of "ab".
  assert.deepEqual(prepareBatch(batch, config).counts, [2, 5, 1]);
});

Deno.test("fixed layouts: longer rows and label-free filler rows", () => {
  const encoded = encodeExamples([{ id: "a", text: "abc" }], byteTokenizer, config);
  const batch = buildBatch(encoded, { contextLength: 5, rows: 3 });
  assert.equal(batch.T, 5);
  assert.equal(batch.B, 3);
  // Filler rows repeat the first example (so attention is well-defined) with no labels.
  assert.deepEqual(Array.from(batch.tokens).slice(5, 10), Array.from(batch.tokens).slice(0, 5));
  assert.deepEqual(Array.from(batch.lossMask!), [1, 1, 1, 0, 0, ...new Array(10).fill(0)]);
  const prepared = prepareBatch(batch, config);
  assert.deepEqual(prepared.counts, [2, 0, 0]);
  assert.equal(prepared.activeExamples, 1);
  assert.throws(() => buildBatch(encoded, { contextLength: 2 }), RangeError);
});

Deno.test("an example longer than the context is a 400 naming it and both lengths", () => {
  const e = expectError(
    () =>
      encodeExample(
        { id: "long-one", prompt: "0123456", completion: "789ab" },
        byteTokenizer,
        config,
      ),
    "example_too_long",
  );
  assert.deepEqual(e.details, { exampleId: "long-one", tokens: 13, context: 12 });
  assert.match(e.message, /long-one.*13.*12/);
  // Exactly the context fits.
  encodeExample({ id: "fits", text: "0123456789ab" }, byteTokenizer, config);
});

Deno.test("token ids outside the model's vocabulary are a 400", () => {
  const small = parseGpt2Config({ ...config, vocab_size: 100 });
  const e = expectError(
    () => encodeExample({ id: "v", text: "ab{" }, byteTokenizer, small),
    "token_out_of_vocab",
  );
  assert.equal(e.details.tokenId, "{".charCodeAt(0));
  assert.equal(e.details.position, 2);
  // End-of-text (256) is out of a 257-less vocabulary too.
  expectError(
    () => encodeExample({ id: "w", prompt: "a", completion: "b" }, byteTokenizer, small),
    "token_out_of_vocab",
  );
});

Deno.test("examples with nothing to predict are a 400", () => {
  expectError(
    () => encodeExample({ id: "e", text: "" }, byteTokenizer, config),
    "example_without_labels",
  );
  expectError(
    () => encodeExample({ id: "one", text: "a" }, byteTokenizer, config),
    "example_without_labels",
  );
  const plain: TextTokenizer = { ...byteTokenizer, endOfText: null };
  expectError(
    () => encodeExample({ id: "p", prompt: "abc", completion: "" }, plain, config),
    "example_without_labels",
  );
});
