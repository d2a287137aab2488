import assert from "node:assert/strict";
import { assertClose as assertCloseTo, unitScale } from "../../src/gpu/reference/compare.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { simulateGpu, simulateStream } from "../../src/simfluence/math/kernels/simulate.ts";
import { simulateCpu, simulateCpuStream } from "../../src/simfluence/math/reference/simulate.ts";
import { randomModel } from "../../src/simfluence/math/synthetic.ts";
import { seededUniform } from "../../src/random.ts";
import type { Batch, SimulatorParams } from "../../src/simfluence/math/types.ts";
import { simulationEvents, type SimulationPlan } from "../../src/simfluence/simulation.ts";
import type { LoadedSimulator } from "../../src/simfluence/simulator_store.ts";

function simulator(n: number, m: number, seed: number): SimulatorParams {
  const model = randomModel(seed, {
    n,
    m,
    aMean: -0.03,
    aSpread: 0.02,
    bMean: 0.02,
    bSpread: 0.02,
  });
  return {
    kind: "linear",
    n,
    m,
    A: model.A,
    B: model.B,
    unseen: [],
    meanLoss: new Float32Array(m).fill(1),
    lambdaFactor: 1e-2,
    scoreScale: null,
  };
}

function curriculum(n: number, steps: number, seed: number): Batch[] {
  const rand = seededUniform(seed);
  return Array.from({ length: steps }, (_, t) => {
    const batch = Array.from({ length: 1 + (t % 4) }, () => Math.floor(rand() * (n + 1)) - 1);
    return t % 5 === 0 ? { indices: batch, counts: batch.map((_, k) => 1 + k) } : batch;
  });
}

/** float32 GPU rollout vs float64-accumulating CPU rollout: relative to the loss scale. */
const SIM_TOLERANCE = 1e-5;

function assertClose(got: Float32Array, want: Float32Array) {
  assertCloseTo(got, want, { rel: SIM_TOLERANCE, scale: unitScale(want) });
}

Deno.test("CPU rollout follows L_t = (1 + ΣA) L_{t-1} + ΣB by hand", () => {
  const sim = simulator(3, 2, 1);
  sim.A.set([0.1, -0.2, 0.5, 0, 0, 0]);
  sim.B.set([1, 2, 0, 0, 3, -1]);
  // step 1: {0, 2}; step 2: {1 x2, unknown id}
  const out = simulateCpu(sim, {
    batches: [[0, 2], { indices: [1, -1], counts: [2, 5] }],
    initialLosses: [1, 2],
  });
  const l1 = [(1 + 0.1 + 0) * 1 + (1 + 3), (1 - 0.2 + 0) * 2 + (2 - 1)];
  const l2 = [(1 + 2 * 0.5) * l1[0] + 0, (1 + 0) * l1[1] + 0];
  const want = [1, 2, ...l1, ...l2];
  want.forEach((w, k) => assert.ok(Math.abs(out[k] - w) < 1e-6, `${k}: ${out[k]} vs ${w}`));
});

Deno.test(
  "GPU rollout matches the CPU reference, with subsets and chunking",
  gpuTest,
  async (t) => {
    const rt = await testRuntime();
    for (const [n, m, steps, chunk] of [[7, 5, 23, 4], [40, 9, 17, 32], [3, 1, 5, 1]]) {
      await t.step(`n=${n} m=${m} steps=${steps} chunk=${chunk}`, async () => {
        const sim = simulator(n, m, n + m);
        const batches = curriculum(n, steps, steps);
        const initial = Float32Array.from({ length: m }, (_, z) => 1 + 0.1 * z);
        const full = { batches, initialLosses: initial };
        assertClose(
          await simulateGpu(rt, sim, full, { chunkSteps: chunk }),
          simulateCpu(sim, full),
        );
        const tests = m > 2 ? [m - 1, 0, 2] : [0];
        const subset = { batches, initialLosses: tests.map((z) => initial[z]), tests };
        assertClose(
          await simulateGpu(rt, sim, subset, { chunkSteps: chunk }),
          simulateCpu(sim, subset),
        );
      });
    }
  },
);

Deno.test(
  "streamed chunks cover the steps in order; aborting stops the stream",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const sim = simulator(6, 3, 9);
    const batches = curriculum(6, 10, 4);
    const request = { batches, initialLosses: [1, 2, 3] };
    const spans: [number, number][] = [];
    for await (const chunk of simulateStream(rt, sim, request, { chunkSteps: 4 })) {
      spans.push([chunk.tStart, chunk.tEnd]);
      assert.equal(chunk.losses.length, (chunk.tEnd - chunk.tStart + 1) * 3);
    }
    assert.deepEqual(spans, [[1, 4], [5, 8], [9, 10]]);

    // Ramp-up: chunks of 1, 2, 4, then chunkSteps, with the same numbers as one big chunk.
    const ramped: [number, number][] = [];
    const rampedLosses = new Float32Array(10 * 3);
    const rampOptions = { chunkSteps: 5, rampUp: true };
    for await (const chunk of simulateStream(rt, sim, request, rampOptions)) {
      ramped.push([chunk.tStart, chunk.tEnd]);
      rampedLosses.set(chunk.losses, (chunk.tStart - 1) * 3);
    }
    assert.deepEqual(ramped, [[1, 1], [2, 3], [4, 7], [8, 10]]);
    assertClose(rampedLosses, simulateCpu(sim, request).subarray(3));

    const controller = new AbortController();
    let chunks = 0;
    await assert.rejects(async () => {
      for await (
        const _ of simulateStream(rt, sim, request, { chunkSteps: 2, signal: controller.signal })
      ) {
        chunks++;
        controller.abort(new Error("client went away"));
      }
    }, /client went away/);
    assert.equal(chunks, 1);
  },
);

Deno.test("simulation input errors", () => {
  const sim = simulator(4, 2, 2);
  assert.throws(() => simulateCpu(sim, { batches: [[0]], initialLosses: [1] }), /initialLosses/);
  assert.throws(() => simulateCpu(sim, { batches: [[4]], initialLosses: [1, 1] }), /outside/);
  assert.throws(
    () => simulateCpu(sim, { batches: [[0]], initialLosses: [1], tests: [2] }),
    /test index/,
  );
});

Deno.test("CPU stream: the reference's numbers, chunked and ramped like the GPU stream", async () => {
  const sim = simulator(6, 3, 9);
  const request = { batches: curriculum(6, 10, 4), initialLosses: [1, 2, 3], tests: [2, 0, 1] };
  const want = simulateCpu(sim, request).subarray(3);
  for (
    const [options, spans] of [
      [{ chunkSteps: 4 }, [[1, 4], [5, 8], [9, 10]]],
      [{ chunkSteps: 5, rampUp: true }, [[1, 1], [2, 3], [4, 7], [8, 10]]],
    ] as const
  ) {
    const got: [number, number][] = [];
    const losses = new Float32Array(want.length);
    for await (const chunk of simulateCpuStream(sim, request, options)) {
      got.push([chunk.tStart, chunk.tEnd]);
      losses.set(chunk.losses, (chunk.tStart - 1) * 3);
    }
    assert.deepEqual(got, spans);
    assert.deepEqual(losses, want);
  }
});

/** A simulation plan whose CPU rollout takes a few hundred milliseconds. */
function largePlan(): SimulationPlan {
  // Many test examples, small batches: the rollout, not the curriculum's preparation, dominates.
  const [n, m, steps] = [300, 512, 20_000];
  const params = simulator(n, m, 5);
  params.A.fill(-1e-4);
  const rand = seededUniform(3);
  const batches = Array.from(
    { length: steps },
    () => Array.from({ length: 8 }, () => Math.floor(rand() * n)),
  );
  const sim = {
    record: { id: "large", kind: "linear" },
    params,
    trainIds: [],
    testIds: Array.from({ length: m }, (_, z) => `q${z}`),
    initialLoss: new Float32Array(m).fill(2),
  } as unknown as LoadedSimulator;
  const tests = Array.from({ length: m }, (_, z) => z);
  return { sim, batches, tests, initial: new Float32Array(m).fill(2), chunkSteps: 64 };
}

Deno.test("CPU simulation events: steps arrive while it runs; an abort stops it", async () => {
  const plan = largePlan();
  const t0 = performance.now();
  simulateCpu(plan.sim.params, { batches: plan.batches, initialLosses: plan.initial });
  const fullMs = performance.now() - t0;
  const controller = new AbortController();
  let steps = 0;
  let firstMs = Infinity;
  const t1 = performance.now();
  await assert.rejects(async () => {
    for await (const events of simulationEvents(null, plan, controller.signal)) {
      for (const e of events) {
        if (e.event !== "step" || steps++ > 0) continue;
        firstMs = performance.now() - t1;
        // A macrotask, like a disconnect: it runs only if the rollout gives the event loop turns.
        setTimeout(() => controller.abort(new Error("client went away")), 0);
      }
    }
  }, /client went away/);
  assert.ok(firstMs < fullMs / 2, `first step after ${firstMs}ms of a ${fullMs}ms rollout`);
  assert.ok(steps < plan.batches.length / 2, `${steps} of ${plan.batches.length} steps computed`);
});
