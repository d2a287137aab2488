// Tokenizers: a tiny GPT-2-style byte-level BPE tokenizer.json through @huggingface/tokenizers,
// and how examples become tokens and loss masks.
import assert from "node:assert/strict";
import { toApiError } from "../../src/http/api_error.ts";
import { hfTokenizer, TokenizerError } from "../../src/text/hf_tokenizer.ts";
import { tokenizeExample } from "../../src/text/example_tokens.ts";
import { byteTokenizer } from "../../src/text/tokenizer.ts";
import { tinyTokenizerJson } from "../helpers/tiny_tokenizer.ts";

Deno.test("hf tokenizer: byte-level BPE from a tokenizer.json", async (t) => {
  const tok = hfTokenizer(JSON.stringify(tinyTokenizerJson()));
  await t.step("merges apply in rank order, spaces become Ġ", () => {
    assert.deepEqual(tok.encode("ab abc"), [4, 7]);
    assert.deepEqual(tok.encode("abab"), [4, 4]);
    assert.deepEqual(tok.encode("a ab c"), [0, 6, 3, 2]);
    assert.deepEqual(tok.encode("ba"), [1, 0]);
    assert.deepEqual(tok.encode("b a"), [1, 5]);
  });
  await t.step("special token, vocabulary size and decoding", () => {
    assert.equal(tok.kind, "huggingface");
    assert.equal(tok.endOfText, 8);
    assert.equal(tok.vocabSize, 9);
    assert.equal(tok.decode([4, 7]), "ab abc");
  });
  await t.step("the parsed object works as well as the text", () => {
    assert.deepEqual(hfTokenizer(tinyTokenizerJson()).encode("ab abc"), [4, 7]);
  });
  await t.step("unusable tokenizer.json is a TokenizerError (400)", () => {
    for (const bad of ["{", "[]", '{"model": 3}', '{"model": {"type": "BPE"}}']) {
      assert.throws(
        () => hfTokenizer(bad),
        (e) => e instanceof TokenizerError && toApiError(e)?.status === 400,
        bad,
      );
    }
  });
});

Deno.test("examples to tokens: loss masks and counted labels", async (t) => {
  await t.step("text: every token after the first is a label", () => {
    const e = tokenizeExample(byteTokenizer, { id: "x", text: "hey" });
    assert.deepEqual(e.tokens, [104, 101, 121]);
    assert.deepEqual(e.lossMask, [1, 1, 1]);
    assert.equal(e.counted, 2);
  });
  await t.step("prompt → completion: completion and end-of-text are the labels", () => {
    const e = tokenizeExample(byteTokenizer, { id: "x", prompt: "ab", completion: "c" });
    assert.deepEqual(e.tokens, [97, 98, 99, 256]);
    assert.deepEqual(e.lossMask, [0, 0, 1, 1]);
    assert.equal(e.counted, 2);
  });
  await t.step("an empty prompt leaves the first completion token unpredicted", () => {
    const e = tokenizeExample(byteTokenizer, { id: "x", prompt: "", completion: "cd" });
    assert.equal(e.counted, 2);
  });
  await t.step("with a BPE tokenizer", () => {
    const tok = hfTokenizer(tinyTokenizerJson());
    const e = tokenizeExample(tok, { id: "x", prompt: "ab", completion: " abc" });
    assert.deepEqual(e.tokens, [4, 7, 8]);
    assert.deepEqual(e.lossMask, [0, 1, 1]);
  });
});
