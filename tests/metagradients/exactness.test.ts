// Metagradients on the GPU (src/metagradients/engine.ts) against the float64 reference of the whole
// reverse pass (src/metagradients/reference.ts), and that reference against central differences
// of float64 retraining in each w_i (MATH.md §7). Tiny model: 2 layers, width 16, 8 AdamW steps,
// clipping active; a harsh set-up (lr 0.01, ε_root 1e-8) and a smooth one (lr 1e-3, ε_root 1e-4).
//
// Tolerances. The float64 reverse equals differences of float64 retraining to ~2e-8 of the largest
// τ (bound 1e-6). The GPU computes in float32: each reverse step's gradient, Hessian–vector
// product and AdamW pull-back carry ~5e-7 relative rounding, and AdamW divides every coordinate
// by its own √v̂, so the rounding of small gradient entries is amplified; over 8 steps the GPU is
// within 1.2e-5 of the largest τ (harsh) and 6e-6 (smooth) of the float64 reverse run on the
// GPU's own states, so that the drift of float32 training is not counted (bound 3e-5). The issue
// asked for 1e-6: float32 does not reach it here.
import assert from "node:assert/strict";
import { unpackParams } from "../../src/gpt2/layout.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { computeMetagradients } from "../../src/metagradients/engine.ts";
import {
  finiteDifferenceMetagradient,
  referenceMetagradient,
  type ReferenceProblem,
  type State64,
} from "../../src/metagradients/reference.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { tinyProblem, trainIds } from "./problem.ts";

const harsh = tinyProblem({ epsRoot: 1e-8 });
const smooth = tinyProblem({ lr: 1e-3, epsRoot: 1e-4 });

const largestOf = (tau: Map<string, number>) => Math.max(...[...tau.values()].map(Math.abs));

Deno.test("metagradients: the float64 reverse pass equals differences of float64 retraining", () => {
  for (const problem of [harsh, smooth]) {
    const reference = referenceMetagradient(problem);
    assert.equal(reference.size, trainIds.length);
    for (const id of ["e1", "e4"]) {
      const fd = finiteDifferenceMetagradient(problem, id, 1e-6);
      assert.ok(
        Math.abs(fd - reference.get(id)!) <= 1e-6 * largestOf(reference),
        `${id}: reverse ${reference.get(id)}, differences ${fd}`,
      );
    }
  }
});

/** The GPU's own training states 0 … T, read back as float64. */
async function gpuStates(rt: GpuRuntime, problem: ReferenceProblem): Promise<State64[]> {
  const model = Gpt2Model.create(rt, problem.initial);
  const optimizer = model.createOptimizer(problem.optimizer);
  const to64 = (m: Map<string, Float32Array>) =>
    new Map([...m].map(([k, v]) => [k, Float64Array.from(v)]));
  const states: State64[] = [];
  try {
    for (let t = 0; t <= problem.steps.length; t++) {
      if (t > 0) await model.trainStep(problem.steps[t - 1].batch, optimizer);
      const [m, v] = await optimizer.read(rt);
      states.push({
        params: to64((await model.readParams()).values),
        m: to64(unpackParams(model.layout, [m])),
        v: to64(unpackParams(model.layout, [v])),
      });
    }
    return states;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

Deno.test("metagradients: the GPU agrees with the float64 reverse pass", gpuTest, async () => {
  const rt = await testRuntime();
  for (const problem of [harsh, smooth]) {
    const onGpuStates = referenceMetagradient(problem, await gpuStates(rt, problem));
    const float64 = referenceMetagradient(problem);
    const result = await computeMetagradients(rt, { ...problem, queries: [problem.query] });
    const largest = largestOf(float64);
    result.trainIds.forEach((id, i) => {
      assert.ok(Math.abs(result.tau[i] - onGpuStates.get(id)!) <= 3e-5 * largest, id);
      assert.ok(Math.abs(result.tau[i] - float64.get(id)!) <= 3e-5 * largest, id);
      // Same sign and a few digits: what a user reads.
      assert.ok(
        Math.abs(result.tau[i] - float64.get(id)!) <=
          1e-3 * Math.abs(float64.get(id)!) + 3e-5 * largest,
      );
    });
  }
});

Deno.test("metagradients: every checkpointing policy gives the same bits", gpuTest, async () => {
  const rt = await testRuntime();
  const run = (checkpointing: "sqrt" | "log" | "all") =>
    computeMetagradients(rt, { ...harsh, queries: [harsh.query], checkpointing });
  const sqrt = await run("sqrt"), log = await run("log"), all = await run("all");
  assert.deepEqual(log.tau, sqrt.tau);
  assert.deepEqual(all.tau, sqrt.tau);
  // T = 8: "all" keeps 9 states; "sqrt" its 4 checkpoints (0, 3, 6, 8) plus a segment; "log" fewer.
  assert.equal(all.peakStates, 9);
  assert.ok(sqrt.peakStates < all.peakStates && log.peakStates <= sqrt.peakStates);
  assert.ok(log.forwardSteps > sqrt.forwardSteps && sqrt.forwardSteps > all.forwardSteps);
  assert.equal(all.forwardSteps, 8);
});
