// BM25 (binary term frequency, k1 = 1.5, b = 0.75): kronfluence fixture's matrix on the full token
// sequences, a hand-computed case, top-k order and ties, and degenerate indexes.
import assert from "node:assert/strict";
import { Bm25Index, topKOf } from "../../src/influence/bm25.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { influenceFixture } from "./fixture.ts";

Deno.test("bm25: the fixture's query × train matrix to float64 rounding", () => {
  const f = influenceFixture();
  const index = Bm25Index.build(f.train.map((e) => e.tokens));
  const expected = f.expected.settings["ekfac-mlp"].bm25!;
  assert.equal(expected.length, f.queries.length);
  f.queries.forEach((q, i) => {
    assertClose(index.scores(q.tokens), expected[i], { rel: 1e-13, abs: 1e-15 }, `query ${q.id}`);
  });
});

Deno.test("bm25: a hand-computed score; repeats count once in f and in the query", () => {
  const docs = [[1, 2, 2, 3], [2, 4], [5, 5, 5, 5, 5, 5]];
  const index = Bm25Index.build(docs);
  const avgdl = 12 / 3;
  assert.equal(index.avgdl, avgdl);
  const idf = (nw: number) => Math.log((3 - nw + 0.5) / (nw + 0.5) + 1);
  assert.equal(index.idf(2), idf(2));
  assert.equal(index.idf(99), idf(0));
  const term = (len: number) => 2.5 / (1 + 1.5 * (1 - 0.75 + 0.75 * len / avgdl));
  const s = index.scores([2, 2, 3, 7]);
  assert.ok(Math.abs(s[0] - (idf(2) + idf(1)) * term(4)) < 1e-15);
  assert.ok(Math.abs(s[1] - idf(2) * term(2)) < 1e-15);
  assert.equal(s[2], 0);
  assert.deepEqual(index.topK([2, 3], 2).map((h) => h.index), [0, 1]);
  // Parameters are honoured: b = 0 removes length normalisation.
  const flat = Bm25Index.build(docs, { k1: 1.2, b: 0 }).scores([2]);
  assert.ok(Math.abs(flat[0] - flat[1]) < 1e-15);
});

Deno.test("bm25: top-k is best first, ties by index, k larger than the index", () => {
  const values = [0.5, 2, 2, -1, 3, 0.5];
  assert.deepEqual(topKOf(values, 3), [
    { index: 4, score: 3 },
    { index: 1, score: 2 },
    { index: 2, score: 2 },
  ]);
  assert.deepEqual(topKOf(values, 10).map((h) => h.index), [4, 1, 2, 0, 5, 3]);
  assert.deepEqual(topKOf(values, 0), []);
  // Against a full sort on random data.
  const random = Array.from({ length: 500 }, (_, i) => Math.round(Math.sin(i * 12.9898) * 50));
  const sorted = random.map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index);
  assert.deepEqual(topKOf(random, 37), sorted.slice(0, 37));
});

Deno.test("bm25: empty index, empty documents and bad parameters", () => {
  assert.deepEqual([...Bm25Index.build([]).scores([1, 2])], []);
  const empties = Bm25Index.build([[], []]);
  assert.equal(empties.avgdl, 0);
  assert.deepEqual([...empties.scores([1])], [0, 0]);
  const withEmpty = Bm25Index.build([[], [1]]);
  assert.ok(withEmpty.scores([1])[1] > 0);
  assert.throws(() => Bm25Index.build([[1]], { b: 2 }), RangeError);
  assert.throws(() => Bm25Index.build([[1]], { k1: -1 }), RangeError);
  assert.throws(() => Bm25Index.build([[1.5]]), RangeError);
  assert.throws(() => Bm25Index.build([[1]]).topK([1], -1), RangeError);
});
