// Data weights (MATH.md §7): example b's term of the batch loss is scaled by w_b while the
// divisor (examples with a counted token) stays, so the gradient is linear in w, w = 1 is
// exactly today's batch, and a weight of 0 removes an example while its slot stays.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
} from "../../src/gpt2/reference/model.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

const config = tinyConfig();
const raw = tinyBatch(config);
const weights = [0.5, 0, 2];

function gradient(p64: Params64, w?: number[]): Params64 {
  const batch = prepareBatch({ ...raw, dataWeights: w }, config);
  return referenceBackward(p64, config, batch, referenceForward(p64, config, batch));
}

Deno.test("data weights: w = 1 leaves the batch objective's weights bit for bit", () => {
  const plain = prepareBatch(raw, config);
  const ones = prepareBatch({ ...raw, dataWeights: [1, 1, 1] }, config);
  assert.deepEqual(ones.lossWeights, plain.lossWeights);
});

Deno.test("data weights: the reference gradient is Σ_b w_b · (example b's share)", () => {
  const p64 = toParams64(spreadParams(config, 3));
  const weighted = gradient(p64, weights);
  const shares = [0, 1, 2].map((b) => gradient(p64, [0, 1, 2].map((k) => (k === b ? 1 : 0))));
  for (const [name, g] of weighted) {
    const expected = g.map((_, i) =>
      shares.reduce((s, share, b) => s + weights[b] * share.get(name)![i], 0)
    );
    assertClose(g, expected, { abs: 1e-12 * (maxAbs(expected) + 1) }, name);
  }
});

Deno.test("data weights: bad weights are refused naming the entry", () => {
  assert.throws(
    () => prepareBatch({ ...raw, dataWeights: [1, -1, 1] }, config),
    /dataWeights\[1\]/,
  );
  assert.throws(() => prepareBatch({ ...raw, dataWeights: [1, 1] }, config), /dataWeights has 2/);
});

Deno.test("data weights: the GPU gradient matches the float64 reference", gpuTest, async () => {
  const rt = await testRuntime();
  const set = spreadParams(config, 3);
  const model = Gpt2Model.create(rt, set);
  try {
    const result = await model.computeGradients({ ...raw, dataWeights: weights });
    const ref = referenceForward(
      toParams64(set),
      config,
      prepareBatch({ ...raw, dataWeights: weights }, config),
    );
    assert.ok(Math.abs(result.loss - ref.loss) < 1e-5 * Math.abs(ref.loss));
    const grads = await model.readGrads();
    for (const [name, g] of gradient(toParams64(set), weights)) {
      assertClose(grads.get(name)!, g, { abs: 2e-5 * maxAbs(g) + 1e-9 }, name);
    }
  } finally {
    model.dispose();
  }
});
