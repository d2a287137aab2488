// Losses leave the service as the shortest decimal of their float32: exact for a float32 client,
// no float64 noise for anyone else.
import assert from "node:assert/strict";
import fc from "fast-check";
import { float32Decimal } from "../../src/float32.ts";
import { testApp } from "../helpers/app.ts";

Deno.test("float32Decimal: shortest, and the same float32", () => {
  assert.equal(float32Decimal(Math.fround(1.9)), 1.9);
  assert.equal(float32Decimal(1.23456789), 1.2345679);
  assert.equal(float32Decimal(Math.fround(0.1)), 0.1);
  assert.equal(float32Decimal(3), 3);
  assert.equal(float32Decimal(0), 0);
  assert.equal(float32Decimal(Number.NaN), Number.NaN);
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
      const y = float32Decimal(x);
      assert.equal(Math.fround(y), Math.fround(x));
      // No shorter decimal rounds to the same float32.
      const digits = y.toExponential().replace(/e.*$/, "").replace(/[-.]/g, "").length;
      if (digits > 1) {
        const shorter = Number(Math.fround(x).toPrecision(digits - 1));
        assert.notEqual(Math.fround(shorter), Math.fround(x), `${x} → ${y}`);
      }
    }),
    { numRuns: 2000 },
  );
});

Deno.test("losses come back as sent, in every export and in trajectories", async () => {
  const ctx = await testApp();
  const losses = [[1.9, 2.7], [1.8, 2.60000001], [1.7, 0.3]];
  const res = await ctx.app.request("/v1/runs", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      study: "f32",
      name: "r1",
      testExamples: ["q1", "q2"],
      steps: [{ batch: ["e1"] }, { batch: ["e2"] }],
      losses,
    }),
  });
  assert.equal(res.status, 201);
  const { id } = await res.json();
  const json = await (await ctx.app.request(`/v1/runs/${id}?format=json`)).json();
  assert.deepEqual(json.losses, [[1.9, 2.7], [1.8, 2.6], [1.7, 0.3]]);
  const ndjson = (await (await ctx.app.request(`/v1/runs/${id}?format=ndjson`)).text())
    .trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(ndjson[0].initialLosses, [1.9, 2.7]);
  assert.deepEqual(ndjson[2].losses, [1.7, 0.3]);
  const trajectories = await (await ctx.app.request(`/v1/runs/${id}/trajectories`)).json();
  assert.deepEqual(trajectories.trajectories, { q1: [1.9, 1.8, 1.7], q2: [2.7, 2.6, 0.3] });
  await ctx.close();
});
