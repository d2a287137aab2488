// Gpt2Model.recordForwardInto / recordTrainStepInto: several recorded calls land in their own
// ranges of one caller tensor, read back once, and give exactly what forward / trainStep give
// (same kernels in the same order, so bit-identical), while the rest of the tensor is untouched.
import assert from "node:assert/strict";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { spreadParams, tinyBatch, tinyConfig } from "../helpers/model_fixtures.ts";

const config = tinyConfig();
const trainBatch = tinyBatch(config, 3, 7, 5);
// Evaluation batches of another shape (the workspace is rebuilt between them) and another seed.
const evalA = tinyBatch(config, 2, 5, 8);
const evalB = tinyBatch(config, 3, 7, 11);

Deno.test("recorded steps read back once equal trainStep and forward", gpuTest, async () => {
  const rt = await testRuntime();
  const set = spreadParams(config, 4);
  const hp = { kind: "adamw" as const, lr: 1e-2, maxGradNorm: 0.5 };
  const direct = Gpt2Model.create(rt, set);
  const deferred = Gpt2Model.create(rt, set);
  const directOptimizer = direct.createOptimizer(hp);
  const deferredOptimizer = deferred.createOptimizer(hp);
  // Gaps between the ranges hold a sentinel that must survive.
  const sentinel = -7.25;
  const offsets = { step: 3, a: 3 + 21 + 1 + 2, b: 3 + 21 + 1 + 2 + 10 + 1 };
  const size = offsets.b + 21 + 4;
  const dst = rt.tensor(new Float32Array(size).fill(sentinel));
  try {
    for (let step = 0; step < 2; step++) {
      const expectedStep = await direct.trainStep(trainBatch, directOptimizer);
      const expectedA = await direct.forward(evalA);
      const expectedB = await direct.forward(evalB);
      const dispatches = rt.dispatchCount;
      const pendingStep = await deferred.recordTrainStepInto(
        trainBatch,
        deferredOptimizer,
        dst,
        offsets.step,
      );
      const pendingA = await deferred.recordForwardInto(evalA, dst, offsets.a);
      const pendingB = await deferred.recordForwardInto(evalB, dst, offsets.b);
      assert.ok(rt.dispatchCount > dispatches, "work was recorded");
      assert.deepEqual([pendingStep.size, pendingA.size, pendingB.size], [22, 10, 21]);
      const [values] = await rt.read([dst]);
      const gotStep = pendingStep.resolve(values);
      assert.deepEqual(gotStep.perExample, expectedStep.perExample);
      assert.equal(gotStep.loss, expectedStep.loss);
      assert.equal(gotStep.gradNorm, expectedStep.gradNorm);
      assert.equal(gotStep.lr, expectedStep.lr);
      assert.deepEqual(gotStep.tokenLoss, expectedStep.tokenLoss);
      for (const [got, expected] of [[pendingA, expectedA], [pendingB, expectedB]] as const) {
        const result = got.resolve(values);
        assert.deepEqual(result.perExample, expected.perExample);
        assert.deepEqual(result.tokenLoss, expected.tokenLoss);
      }
      const untouched = [0, 1, 2, 25, 26, 37, size - 4, size - 3, size - 2, size - 1];
      for (const i of untouched) assert.equal(values[i], sentinel, `element ${i}`);
    }
  } finally {
    dst.dispose();
    directOptimizer.dispose();
    deferredOptimizer.dispose();
    direct.dispose();
    deferred.dispose();
  }
});

Deno.test("a destination too small for the recorded results is refused", gpuTest, async () => {
  const rt = await testRuntime();
  const model = Gpt2Model.create(rt, spreadParams(config, 4));
  const optimizer = model.createOptimizer({ kind: "sgd", lr: 1e-2 });
  const dst = rt.zeros([30]);
  try {
    await assert.rejects(model.recordForwardInto(evalB, dst, 10), /cannot take 21 elements/);
    await assert.rejects(model.recordTrainStepInto(trainBatch, optimizer, dst, 9), /22 elements/);
    await assert.rejects(model.recordForwardInto(evalA, dst, -1), RangeError);
    // Exactly fitting is fine.
    const pending = await model.recordTrainStepInto(trainBatch, optimizer, dst, 8);
    assert.ok(Number.isFinite(pending.resolve(await rt.readOne(dst)).gradNorm));
  } finally {
    dst.dispose();
    optimizer.dispose();
    model.dispose();
  }
});
