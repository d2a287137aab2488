// The GPU batched rollout (shaders/curricula_rollout.wgsl) against the float64 CPU rolloutBatch on
// odd shapes: a 37-id pool, 5 tests, 23 base batches of mixed sizes with repeated ids, 13
// candidates (odd masks, permuted and repeated batch orders, one that keeps nothing), both `at`
// values, with and without the fittedPresent scaling.
import assert from "node:assert/strict";
import type { Candidate, RolloutProblem } from "../../src/curricula/batched_rollout.ts";
import { rolloutReference as rolloutBatch } from "../../src/curricula/reference/rollout.ts";
import { GpuRollout, rolloutBatchGpu } from "../../src/curricula/kernels/rollout.ts";
import type { Setting } from "../../src/curricula/setting.ts";
import { simulatorSearch } from "../../src/curricula/simulator_method.ts";
import type { StoredRun } from "../../src/runs/run_store.ts";
import type { LoadedSimulator } from "../../src/simfluence/simulator_store.ts";
import { seededNormal, seededUniform } from "../../src/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

// float32 over T steps: each step rounds the sums of A and B (≤ 8 entries, each a few ulps) and
// the update of L (~3 ulps), and L compounds with factors 1 + scale·ΣA ≈ 1, so the relative error
// of L_T grows about linearly, ~T·8·6e-8 ≈ 1e-5 at T = 23; the weighted sum over ≤ 70 positive
// values adds ~log2(s) ulps. 1e-4·|J| leaves a 10× margin and still fails on any wrong term (one
// missed or extra entry moves J by ≥ 1e-3 relative with these parameters).
const REL = 1e-4;

function problem(
  seed: number,
  shape: { n: number; s: number; nb: number },
  at: "final" | "mean",
  fittedPresent: number | null,
): RolloutProblem {
  const { n, s, nb } = shape;
  const uniform = seededUniform(seed);
  const normal = seededNormal(seed + 1);
  const ptr = new Int32Array(nb + 1);
  const entries: number[] = [];
  for (let b = 0; b < nb; b++) {
    const size = 1 + ((b * 5) % 8); // 1 … 8 entries
    for (let e = 0; e < size; e++) {
      // Every third batch repeats an id it already holds.
      entries.push(
        e > 0 && b % 3 === 0 && e === size - 1
          ? entries[entries.length - 1]
          : Math.floor(uniform() * n),
      );
    }
    ptr[b + 1] = entries.length;
  }
  const raw = Array.from({ length: s }, () => 0.2 + uniform());
  const total = raw.reduce((a, b) => a + b, 0);
  return {
    n,
    s,
    T: nb,
    ptr,
    entries: Int32Array.from(entries),
    A: Float64Array.from({ length: n * s }, () => -0.01 + 0.01 * normal()),
    B: Float64Array.from({ length: n * s }, () => 0.01 * normal()),
    initial: Float64Array.from({ length: s }, () => 2 + uniform()),
    weights: Float64Array.from(raw, (w) => w / total),
    at,
    fittedPresent,
    unknownToSimulator: [],
  };
}

function candidates(p: RolloutProblem, count: number, seed: number): Candidate[] {
  const uniform = seededUniform(seed);
  return Array.from({ length: count }, (_, k) => {
    const mask = Uint8Array.from({ length: p.n }, () => (uniform() < 0.3 + 0.05 * k ? 1 : 0));
    if (k === 0) mask.fill(0);
    const order = Int32Array.from({ length: p.T }, (_, t) => t);
    for (let t = p.T - 1; t > 0; t--) {
      const j = Math.floor(uniform() * (t + 1));
      [order[t], order[j]] = [order[j], order[t]];
    }
    // Some candidates visit a batch twice (the CPU path allows any base batch at any step).
    if (k % 4 === 1 && p.T > 1) order[0] = order[1];
    return { mask, order };
  });
}

let worst = 0;

function assertCloseJ(got: Float64Array, want: Float64Array, what: string) {
  assert.equal(got.length, want.length);
  for (let k = 0; k < want.length; k++) {
    const error = Math.abs(got[k] - want[k]);
    worst = Math.max(worst, error / Math.abs(want[k]));
    assert.ok(
      error <= REL * Math.abs(want[k]),
      `${what}, candidate ${k}: GPU ${got[k]} vs CPU ${want[k]} (error ${error})`,
    );
  }
}

Deno.test(
  "GPU batched rollout equals the float64 CPU rollout on odd shapes",
  gpuTest,
  async (t) => {
    const rt = await testRuntime();
    for (const at of ["final", "mean"] as const) {
      for (const fittedPresent of [null, 3.7]) {
        await t.step(`at ${at}, fittedPresent ${fittedPresent}`, async () => {
          const p = problem(11, { n: 37, s: 5, nb: 23 }, at, fittedPresent);
          const cands = candidates(p, 13, 5);
          const want = rolloutBatch(p, cands);
          const rollout = GpuRollout.create(rt, p);
          try {
            assertCloseJ(await rollout.evaluate(cands), want, "13 candidates");
            // A smaller call after a larger one reuses the buffers; stale candidates must not leak.
            const few = cands.slice(3, 6).reverse();
            assertCloseJ(await rollout.evaluate(few), rolloutBatch(p, few), "3 candidates");
            // A wrong entry would show: dropping one id changes J beyond the tolerance.
            const dropped = { ...cands[5], mask: cands[5].mask.slice() };
            dropped.mask[dropped.mask.indexOf(1)] = 0;
            const [a, b] = await rollout.evaluate([cands[5], dropped]);
            assert.ok(Math.abs(a - b) > 10 * REL * Math.abs(a), `${a} vs ${b}`);
          } finally {
            rollout.dispose();
          }
        });
      }
    }
    await t.step("more tests than a workgroup's lanes (s = 70), and T = 0", async () => {
      const wide = problem(3, { n: 9, s: 70, nb: 4 }, "mean", 2);
      const cands = candidates(wide, 7, 9);
      assertCloseJ(await rolloutBatchGpu(rt, wide, cands), rolloutBatch(wide, cands), "s = 70");
      const empty = problem(4, { n: 6, s: 3, nb: 0 }, "mean", null);
      const none = candidates(empty, 2, 1);
      assertCloseJ(await rolloutBatchGpu(rt, empty, none), rolloutBatch(empty, none), "T = 0");
    });
    console.log(`max relative error of J: ${worst.toExponential(2)} (tolerance ${REL})`);
  },
);

/** A small setting: 19 ids over 11 batches of 1–4, 6 tests, objective on tests 1, 2 and 5. */
function searchSetting() {
  const uniform = seededUniform(21);
  const normal = seededNormal(22);
  const ids = Array.from({ length: 19 }, (_, i) => `e${i}`);
  const steps = Array.from({ length: 11 }, (_, t) => ({
    batch: Array.from({ length: 1 + (t % 4) }, () => ids[Math.floor(uniform() * ids.length)]),
  }));
  const testIds = Array.from({ length: 6 }, (_, z) => `q${z}`);
  const losses = new Float32Array(12 * 6).map(() => 2 + uniform());
  const used = new Set(steps.flatMap((s) => s.batch));
  const pool = ids.filter((id) => used.has(id));
  const setting: Setting = {
    study: "s",
    testIds,
    objective: {
      tests: ["q1", "q2", "q5"],
      columns: [1, 2, 5],
      weights: [0.5, 0.3, 0.2],
      at: "mean",
    },
    base: { id: "base", run: { steps, losses, testExamples: testIds } } as unknown as StoredRun,
    pool,
    keep: new Set(),
    exclude: new Set(),
    keepCount: Math.floor(pool.length / 2),
  };
  const m = testIds.length;
  const sim = {
    record: { id: "sim" },
    params: {
      kind: "linear",
      n: ids.length,
      m,
      A: Float32Array.from({ length: ids.length * m }, () => -0.01 + 0.01 * normal()),
      B: Float32Array.from({ length: ids.length * m }, () => 0.02 * normal()),
      unseen: [],
      meanLoss: new Float32Array(m),
      lambdaFactor: 1,
      scoreScale: null,
    },
    trainIds: ids,
    testIds,
  } as unknown as LoadedSimulator;
  return { setting, sim };
}

Deno.test("the simulator search rolls out on the GPU when given a runtime", gpuTest, async () => {
  const rt = await testRuntime();
  const { setting, sim } = searchSetting();
  const options = {
    restarts: 2,
    rounds: 15,
    candidates: 9,
    optimizeOrder: true,
    seed: 3,
    fittedPresent: 2.5,
  };
  const progress = { signal: new AbortController().signal, report: () => {} };
  const onGpu = await simulatorSearch(setting, sim, options, progress, rt);
  const onCpu = await simulatorSearch(setting, sim, options, progress);
  assert.equal(onGpu.search.device, "gpu");
  assert.equal(onCpu.search.device, "cpu");
  assert.equal(onGpu.curriculum.kept.length, setting.keepCount);
  // The GPU's best objective is the float64 prediction of the curriculum it chose.
  const restarts = onGpu.search.restarts as { best: number }[];
  const best = Math.min(...restarts.map((r) => r.best));
  const predicted = onGpu.predict(onGpu.curriculum).objective!;
  assert.ok(Math.abs(best - predicted) <= REL * Math.abs(predicted), `${best} vs ${predicted}`);
  assert.ok(onGpu.search.curriculaEvaluated === onCpu.search.curriculaEvaluated);
});
