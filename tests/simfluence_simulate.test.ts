import assert from "node:assert/strict";
import { gpuTest, testRuntime } from "./helpers/gpu.ts";
import { simulateCpu, simulateGpu, simulateStream } from "../src/simfluence/simulate.ts";
import { randomModel, seededRandom } from "../src/simfluence/synthetic.ts";
import type { Batch, SimulatorParams } from "../src/simfluence/types.ts";

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
  const rand = seededRandom(seed);
  return Array.from({ length: steps }, (_, t) => {
    const batch = Array.from({ length: 1 + (t % 4) }, () => Math.floor(rand() * (n + 1)) - 1);
    return t % 5 === 0 ? { indices: batch, counts: batch.map((_, k) => 1 + k) } : batch;
  });
}

/** float32 GPU rollout vs float64-accumulating CPU rollout: relative to the loss scale. */
const SIM_TOLERANCE = 1e-5;

function assertClose(got: Float32Array, want: Float32Array) {
  assert.equal(got.length, want.length);
  for (let k = 0; k < want.length; k++) {
    const tol = SIM_TOLERANCE * Math.max(1, Math.abs(want[k]));
    assert.ok(Math.abs(got[k] - want[k]) <= tol, `element ${k}: ${got[k]} vs ${want[k]}`);
  }
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
