// The GPU Hessian–vector product (forward-over-reverse, src/gpt2/tangent.ts) against the float64
// reference's (central differences of the float64 gradient, Richardson-extrapolated), and the
// per-position loss tangents ⟨∇ce_r, v⟩ against differences of the float64 losses, on the tiny
// config with data weights, a padded row and a loss mask.
import assert from "node:assert/strict";
import { assertClose, maxAbs } from "../../src/gpu/reference/compare.ts";
import { prepareBatch } from "../../src/gpt2/batch.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { unpackParams } from "../../src/gpt2/layout.ts";
import { referenceForward, toParams64 } from "../../src/gpt2/reference/model.ts";
import { referenceHvp } from "../../src/metagradients/reference.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

const config = tinyConfig();
const batch = { ...tinyBatch(config), dataWeights: [1, 0.5, 2] };
const step = { batch, rowIds: ["a", "b", "c"] };

Deno.test(
  "GPU Hessian–vector product and loss tangents match the float64 reference",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const set = spreadParams(config, 11);
    const direction = spreadParams(config, 12, 1);
    const model = Gpt2Model.create(rt, set);
    const dirModel = Gpt2Model.create(rt, direction); // packs the direction in the model's layout
    const hv = rt.zeros([model.params.size]);
    try {
      await model.recordGradientsForTangent(batch);
      const lossDot = await model.recordTangent(dirModel.params, hv);
      const [hvFlat, dots] = await rt.read([hv, lossDot]);
      const actual = unpackParams(model.layout, [hvFlat]);
      const p64 = toParams64(set), v64 = toParams64(direction);
      const expected = referenceHvp(p64, config, step, v64);
      let largest = 0;
      for (const e of expected.values()) largest = Math.max(largest, maxAbs(e));
      assert.ok(largest > 1e-3, "a non-trivial product");
      for (const [name, e] of expected) {
        assertClose(actual.get(name)!, e, { abs: 1e-5 * largest }, `H·v ${name}`);
      }
      // ⟨∇ce_r, v⟩ by a central difference of the float64 per-position losses.
      const prepared = prepareBatch(batch, config);
      const h = 1e-4;
      const shifted = (s: number) =>
        new Map([...p64].map(([k, p]) => [k, p.map((e, i) => e + s * v64.get(k)![i])]));
      const plus = referenceForward(shifted(h), config, prepared).tokenLoss;
      const minus = referenceForward(shifted(-h), config, prepared).tokenLoss;
      const fd = plus.map((p, r) => (p - minus[r]) / (2 * h));
      const counted = Float64Array.from(fd, (e, r) => (prepared.exampleWeights[r] > 0 ? e : 0));
      const gpu = Float64Array.from(dots, (e, r) => (prepared.exampleWeights[r] > 0 ? e : 0));
      assertClose(gpu, counted, { abs: 1e-4 * maxAbs(counted) }, "loss tangents");
    } finally {
      hv.dispose();
      dirModel.dispose();
      model.dispose();
    }
  },
);

Deno.test("the reference Hessian–vector product is linear in v and symmetric", () => {
  const p64 = toParams64(spreadParams(config, 11));
  const u = toParams64(spreadParams(config, 13, 1)), v = toParams64(spreadParams(config, 14, 1));
  const dot = (a: Map<string, Float64Array>, b: Map<string, Float64Array>) => {
    let s = 0;
    for (const [k, x] of a) x.forEach((e, i) => (s += e * b.get(k)![i]));
    return s;
  };
  const hu = referenceHvp(p64, config, step, u), hvv = referenceHvp(p64, config, step, v);
  // uᵀHv = vᵀHu to the differences' accuracy: catches a wrong step or a biased difference.
  const a = dot(u, hvv), b = dot(v, hu);
  assert.ok(Math.abs(a - b) < 1e-7 * Math.max(Math.abs(a), 1), `${a} vs ${b}`);
});
