import assert from "node:assert/strict";
import fc from "fast-check";
import { jsonArraySteps } from "../../src/simfluence/json_array_steps.ts";
import { runToEnd } from "../../src/simfluence/math/time_slice.ts";

// largeValueChars 1 splits every container (the path a huge curriculum takes); the default parses
// values under 64 Ki characters in one JSON.parse.
const parseSplit = (text: string) => runToEnd(jsonArraySteps(text, 1));
const parse = (text: string) => runToEnd(jsonArraySteps(text));

Deno.test("jsonArraySteps gives what JSON.parse gives for any JSON array", () => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue()), fc.boolean(), (value, pretty) => {
      const text = JSON.stringify(value, null, pretty ? 2 : undefined);
      assert.deepEqual(parseSplit(text), JSON.parse(text));
      assert.deepEqual(parse(text), JSON.parse(text));
    }),
    { numRuns: 300 },
  );
  // Strings holding brackets, commas, colons, quotes and escapes split nothing.
  const tricky = [{ batch: ["a,b", "c]d", 'e"}f', "g\\", "[", "{", "k:v"] }, { "x:y": [], lr: 1 }];
  assert.deepEqual(parseSplit(JSON.stringify(tricky)), tricky);
  assert.deepEqual(parseSplit(" [ ] "), []);
  assert.deepEqual(parseSplit('[{ }, {"__proto__": 1}]'), JSON.parse('[{ }, {"__proto__": 1}]'));
  const big = Array.from({ length: 30_000 }, (_, k) => ({ batch: [`e${k}`, `f${k}`], lr: k }));
  assert.deepEqual(parse(JSON.stringify(big)), big);
});

Deno.test("jsonArraySteps refuses what JSON.parse refuses, and non-arrays", () => {
  const bad = [
    "[1,]",
    "[,1]",
    "[1 2]",
    "[1] x",
    "[1] [2]",
    "[1",
    "",
    '{"a": 1}',
    "3",
    '["a]',
    '[{"a" 1}]',
    '[{"a": }]',
    '[{"a": 1,}]',
    "[{1: 2}]",
    "[]]",
  ];
  for (const text of bad) {
    assert.throws(() => parseSplit(text), SyntaxError, text);
    assert.throws(() => parse(text), SyntaxError, text);
  }
});

Deno.test("jsonArraySteps yields while it parses a long array", () => {
  const text = JSON.stringify(Array.from({ length: 50 }, (_, k) => ({ batch: [`e${k}`] })));
  const steps = jsonArraySteps(text, 1);
  let yields = 0;
  while (!steps.next().done) yields++;
  assert.ok(yields >= 100, `${yields} yields`);
});
