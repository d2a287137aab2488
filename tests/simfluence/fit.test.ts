import assert from "node:assert/strict";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { toCurriculum } from "../../src/simfluence/math/curriculum.ts";
import { type FitOptions, fitSimulator } from "../../src/simfluence/math/fit.ts";
import { pearson, pooledMetrics } from "../../src/simfluence/math/metrics.ts";
import { rolloutCpu } from "../../src/simfluence/math/reference/simulate.ts";
import { generateRuns, randomModel, type TrueModel } from "../../src/simfluence/math/synthetic.ts";
import type { Run, StudyUniverse } from "../../src/simfluence/math/types.ts";

const n = 16;
const m = 6;
const universe = (extra = 0): StudyUniverse => ({
  trainIds: Array.from({ length: n + extra }, (_, i) => `train-${i}`),
  testIds: Array.from({ length: m }, (_, z) => `test-${z}`),
});
const initial = Float32Array.from({ length: m }, (_, z) => 1 + 0.3 * z);

/** 10 fitting runs and 4 held-out runs of 40 steps, batch 4, drawn from a known model. */
function study(aMean: number, aSpread: number, noise: number, seed: number) {
  const model = randomModel(seed, { n, m, aMean, aSpread, bMean: 0.01, bSpread: 0.03 });
  const runs = generateRuns(seed + 1, model, { runs: 14, steps: 40, batch: 4, noise, initial });
  return { model, fitting: runs.slice(0, 10), heldOut: runs.slice(10) };
}

/** Pooled held-out all-steps MSE of a simulator's rollouts from each run's L_0. */
function heldOutMse(params: Pick<TrueModel, "n" | "m" | "A" | "B">, runs: readonly Run[]): number {
  const zs = Array.from({ length: params.m }, (_, z) => z);
  return pooledMetrics(runs.map((run) => ({
    predicted: rolloutCpu(params, toCurriculum(run.batches, params.n, true), run.losses, zs),
    observed: run.losses,
    tests: params.m,
  }))).pooled.allStepsMse;
}

const gpuFit = async (runs: readonly Run[], options: FitOptions, extra = 0) =>
  fitSimulator(await testRuntime(), universe(extra), runs, { tol: 1e-6, ...options });

Deno.test(
  "Linear recovers A and B and reaches the noise floor on held-out runs",
  gpuTest,
  async () => {
    const { model, fitting, heldOut } = study(-0.03, 0.02, 1e-3, 5);
    const fit = await gpuFit(fitting, { kind: "linear" });
    assert.equal(fit.lambdaSelection, "auto");
    assert.ok(pearson(fit.params.A, model.A) >= 0.95, `r(A) = ${pearson(fit.params.A, model.A)}`);
    assert.ok(pearson(fit.params.B, model.B) >= 0.95, `r(B) = ${pearson(fit.params.B, model.B)}`);
    // The floor is the true model's own rollout error (accumulated process noise).
    const floor = heldOutMse(model, heldOut);
    const mse = heldOutMse(fit.params, heldOut);
    assert.ok(mse <= 1.5 * floor, `held-out MSE ${mse} vs noise floor ${floor}`);
  },
);

Deno.test("Linear beats Additive when the data has multiplicative effects", gpuTest, async () => {
  const { fitting, heldOut } = study(-0.03, 0.02, 1e-2, 21);
  const linear = heldOutMse((await gpuFit(fitting, { kind: "linear" })).params, heldOut);
  const additive = heldOutMse((await gpuFit(fitting, { kind: "additive" })).params, heldOut);
  assert.ok(linear < additive / 10, `linear ${linear} vs additive ${additive}`);
});

Deno.test("Additive is as good as Linear on purely additive data", gpuTest, async () => {
  const { model, fitting, heldOut } = study(0, 0, 1e-3, 33);
  assert.ok(model.A.every((a) => a === 0));
  const linearFit = await gpuFit(fitting, { kind: "linear" });
  const additiveFit = await gpuFit(fitting, { kind: "additive" });
  assert.ok(additiveFit.params.A.every((a) => a === 0));
  const linear = heldOutMse(linearFit.params, heldOut);
  const additive = heldOutMse(additiveFit.params, heldOut);
  assert.ok(additive <= 1.05 * linear, `additive ${additive} vs linear ${linear}`);
});

Deno.test("λ auto picks the grid value with the lowest validation MSE", gpuTest, async () => {
  const { fitting } = study(-0.03, 0.02, 3e-2, 41);
  const grid = [10, 1e-1, 1e-3];
  const fit = await gpuFit(fitting, { kind: "linear", lambdaGrid: grid, validationRuns: [0, 1] });
  assert.deepEqual(fit.lambdaTrials.map((t) => t.factor), grid);
  const best = fit.lambdaTrials.reduce((a, b) => (b.validationMse < a.validationMse ? b : a));
  assert.equal(fit.params.lambdaFactor, best.factor);
  assert.ok(fit.lambdaTrials[0].validationMse > best.validationMse, "heavy shrinkage is worse");
  const single = await gpuFit(fitting.slice(0, 1), { kind: "linear" });
  assert.equal(single.lambdaSelection, "fallback-too-few-runs");
  await assert.rejects(
    () => gpuFit(fitting, { kind: "linear", validationRuns: fitting.map((_, r) => r) }),
    /at least one run/,
  );
});

Deno.test("λ auto stops once the validation MSE rises past its minimum", gpuTest, async () => {
  // Noisy data: the held-out error is U-shaped along the grid, with its minimum inside it.
  const { fitting } = study(-0.03, 0.02, 3e-2, 41);
  const grid = [1e2, 1e1, 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6];
  const options = { kind: "linear" as const, lambdaGrid: grid, validationRuns: [0, 1] };
  const full = await gpuFit(fitting, { ...options, lambdaPatience: Infinity });
  const mses = full.lambdaTrials.map((t) => t.validationMse);
  assert.equal(mses.length, grid.length);
  const bestIndex = mses.indexOf(Math.min(...mses));
  assert.ok(bestIndex < grid.length - 1, `minimum inside the grid: ${mses}`);

  const early = await gpuFit(fitting, options);
  const tried = early.lambdaTrials.map((t) => t.validationMse);
  assert.ok(tried.length < grid.length, "the weakest factors were skipped");
  // It stopped at the first rise after its best so far, and chose that best.
  const last = tried.length - 1;
  assert.ok(tried[last] >= Math.min(...tried.slice(0, last)), `stopped on a rise: ${tried}`);
  assert.ok(tried.slice(0, last).every((v, i) => i === 0 || v < tried[i - 1]), `${tried}`);
  assert.equal(early.params.lambdaFactor, grid[last - 1]);
});

Deno.test(
  "GPU and CPU fits agree; unseen training ids are reported with A = B = 0",
  gpuTest,
  async () => {
    const { fitting } = study(-0.02, 0.02, 1e-2, 55);
    const options: FitOptions = { kind: "linear", lambdaFactor: 1e-2, tol: 1e-6 };
    const gpu = await gpuFit(fitting, options, 3);
    const cpu = await fitSimulator(null, universe(3), fitting, {
      ...options,
      solver: "cpu-cholesky",
    });
    assert.deepEqual(gpu.params.unseen, [n, n + 1, n + 2]);
    assert.deepEqual(cpu.params.unseen, [n, n + 1, n + 2]);
    let num = 0;
    let den = 0;
    for (let k = 0; k < (n + 3) * m; k++) {
      num += (gpu.params.A[k] - cpu.params.A[k]) ** 2 + (gpu.params.B[k] - cpu.params.B[k]) ** 2;
      den += cpu.params.A[k] ** 2 + cpu.params.B[k] ** 2;
    }
    assert.ok(Math.sqrt(num / den) < 5e-4, `relative difference ${Math.sqrt(num / den)}`);
    for (const i of gpu.params.unseen) {
      assert.ok(gpu.params.A.subarray(i * m, (i + 1) * m).every((v) => v === 0));
      assert.ok(gpu.params.B.subarray(i * m, (i + 1) * m).every((v) => v === 0));
    }
  },
);

/** A study whose CPU CG fit takes a few hundred milliseconds. */
function mediumStudy() {
  const [bigN, bigM] = [700, 24];
  const model = randomModel(77, {
    n: bigN,
    m: bigM,
    aMean: -0.002,
    aSpread: 0.002,
    bMean: 0,
    bSpread: 0.002,
  });
  const start = Float32Array.from({ length: bigM }, (_, z) => 2 + 0.1 * z);
  const runs = generateRuns(78, model, {
    runs: 10,
    steps: 200,
    batch: 8,
    noise: 1e-3,
    initial: start,
  });
  const universe: StudyUniverse = {
    trainIds: Array.from({ length: bigN }, (_, i) => `train-${i}`),
    testIds: Array.from({ length: bigM }, (_, z) => `test-${z}`),
  };
  return { universe, runs };
}

Deno.test("CPU CG fit keeps the event loop turning and stops mid-solve on abort", async () => {
  const { universe, runs } = mediumStudy();
  const options: FitOptions = { kind: "linear", lambdaFactor: 1e-3, solver: "cpu-cg", tol: 1e-8 };
  // Timer callbacks fire during the fit: HTTP requests and SSE streams would be served too.
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 1);
  const started = performance.now();
  let full: number;
  try {
    const fit = await fitSimulator(null, universe, runs, options);
    full = performance.now() - started;
    assert.equal(fit.report.solver, "cpu-cg");
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks.length >= 3, `${ticks.length} timer ticks in a ${full}ms fit`);
  const gaps = ticks.map((t, k) => t - (k === 0 ? started : ticks[k - 1]));
  assert.ok(Math.max(...gaps) < Math.max(200, full / 3), `longest stall ${Math.max(...gaps)}ms`);

  // An abort at the first turn of the event loop ends the solve there, not when it is done.
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("fit cancelled")), 0);
  const t0 = performance.now();
  await assert.rejects(
    fitSimulator(null, universe, runs, { ...options, signal: controller.signal }),
    /fit cancelled/,
  );
  const cancelled = performance.now() - t0;
  assert.ok(cancelled < full / 2, `cancelled after ${cancelled}ms of a ${full}ms fit`);
});

Deno.test("fit progress: never goes back, counts its solves, reaches 1 only when done", async () => {
  const { universe, runs } = mediumStudy();
  const reports: { ms: number; fraction: number; solvesDone: number; solves: number }[] = [];
  const started = performance.now();
  const fit = await fitSimulator(null, universe, runs, {
    kind: "linear",
    lambdaFactor: "auto",
    solver: "cpu-cg",
    tol: 1e-6,
    onProgress: (p) => reports.push({ ms: performance.now() - started, ...p }),
  });
  assert.ok(fit.lambdaTrials.length >= 2, "a real search");
  assert.ok(reports.length > 20, `${reports.length} reports`);
  for (let k = 1; k < reports.length; k++) {
    assert.ok(reports[k].fraction >= reports[k - 1].fraction, "never goes back");
  }
  const last = reports.at(-1)!;
  assert.deepEqual([last.fraction, last.solvesDone, last.solves], [
    1,
    fit.lambdaTrials.length + 1,
    fit.lambdaTrials.length + 1,
  ]);
  // How close it keeps to the share of time is tested on scripted durations (fit_pace.test.ts);
  // this fit's timing depends on the machine's load.
  assert.ok(reports.at(-2)!.fraction < 1, "1 only when done");
});
