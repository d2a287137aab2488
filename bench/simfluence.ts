// Simfluence benchmark: fitting Simfluence-Linear for a synthetic study (all test examples in one
// batched GPU CG solve) against the plain-TypeScript float64 CG reference, and rollout throughput.
//
// The CPU reference is per-test-example preconditioned CG (the same algorithm), timed on a sample
// of test examples and scaled to all m: a dense Cholesky of the 2n x 2n normal matrix costs
// ~(2n)³/3 = 2.7 GFLOP per test example at n = 1000, far slower than CG here.
import { median } from "../src/gpu/autotune.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { toCurriculum } from "../src/simfluence/math/curriculum.ts";
import { solveCgCpu } from "../src/simfluence/math/reference/solver.ts";
import { buildDesign, meanRowNormSq } from "../src/simfluence/math/design.ts";
import { fitSimulator } from "../src/simfluence/math/fit.ts";
import { GpuRidgeSolver } from "../src/simfluence/math/kernels/solver.ts";
import { pooledMetrics } from "../src/simfluence/math/metrics.ts";
import { simulateGpu } from "../src/simfluence/math/kernels/simulate.ts";
import { rolloutCpu } from "../src/simfluence/math/reference/simulate.ts";
import { generateRuns, randomModel } from "../src/simfluence/math/synthetic.ts";
import type { SimulatorParams } from "../src/simfluence/math/types.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

/**
 * The benchmarks' synthetic study: a random Simfluence-Linear model over n training and m test
 * examples, and `runs` runs of `steps` batches of 8 drawn from it (seeded, so every suite fits
 * the same study).
 */
export function syntheticStudy(n: number, m: number, runs: number, steps: number) {
  const model = randomModel(1, {
    n,
    m,
    aMean: -0.004,
    aSpread: 0.004,
    bMean: 0.003,
    bSpread: 0.003,
  });
  const initial = Float32Array.from({ length: m }, (_, z) => 1.5 + (z % 17) * 0.1);
  return { initial, runs: generateRuns(2, model, { runs, steps, batch: 8, noise: 0.01, initial }) };
}

const LAMBDA_FACTOR = 1e-2;
const TOL = 1e-5;

export const simfluenceSuite: BenchSuite = {
  name: "simfluence",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    const n = quick ? 200 : 1000;
    const m = quick ? 200 : 1000;
    const runCount = quick ? 8 : 32;
    const steps = 100;
    const batch = 8;
    const cpuSample = quick ? 8 : 24;
    const shape = `n=${n} m=${m} ${runCount}x${steps} steps batch ${batch}`;

    const { initial, runs } = syntheticStudy(n, m, runCount + 4, steps);
    const fitting = runs.slice(0, runCount);
    const heldOut = runs.slice(runCount);

    // GPU fit: design upload + batched CG for all m test examples, fixed λ factor.
    const t0 = performance.now();
    const design = buildDesign(fitting, n, m);
    const lambda = meanRowNormSq(design, "linear").map((v) => LAMBDA_FACTOR * v);
    const solver = GpuRidgeSolver.create(rt, design);
    let gpuSeconds: number;
    let report;
    let theta;
    try {
      report = await solver.solve("linear", lambda, { tol: TOL, maxIterations: 1000 });
      theta = await solver.readTheta();
      gpuSeconds = (performance.now() - t0) / 1000;
    } finally {
      solver.dispose();
    }

    // CPU float64 CG on evenly spaced test examples, scaled to m.
    const zs = Array.from({ length: cpuSample }, (_, k) => Math.floor((k * m) / cpuSample));
    const c0 = performance.now();
    const cpu = solveCgCpu(design, "linear", lambda, zs, { tol: TOL, maxIterations: 1000 });
    const cpuSeconds = ((performance.now() - c0) / 1000) * (m / cpuSample);
    let num = 0;
    let den = 0;
    zs.forEach((z, j) => {
      for (let i = 0; i < n; i++) {
        num += (theta.A[i * m + z] - cpu.A[i * cpuSample + j]) ** 2;
        num += (theta.B[i * m + z] - cpu.B[i * cpuSample + j]) ** 2;
        den += cpu.A[i * cpuSample + j] ** 2 + cpu.B[i * cpuSample + j] ** 2;
      }
    });

    const sim: SimulatorParams = {
      kind: "linear",
      n,
      m,
      A: theta.A,
      B: theta.B,
      unseen: design.unseen,
      meanLoss: design.meanLoss,
      lambdaFactor: LAMBDA_FACTOR,
      scoreScale: null,
    };
    const allTests = Array.from({ length: m }, (_, z) => z);
    const predicted = heldOut.map((run) =>
      rolloutCpu(sim, toCurriculum(run.batches, n), run.losses, allTests)
    );
    const quality = pooledMetrics(
      heldOut.map((run, r) => ({ predicted: predicted[r], observed: run.losses, tests: m })),
    );

    // Rollout throughput: one run's curriculum for all m test examples.
    const request = { batches: heldOut[0].batches, initialLosses: initial };
    const cur = toCurriculum(request.batches, n, true);
    await simulateGpu(rt, sim, request, { chunkSteps: 32 }); // warm-up (pipeline compile)
    const gpuSim: number[] = [];
    const cpuSim: number[] = [];
    for (let rep = 0; rep < (quick ? 3 : 5); rep++) {
      let t = performance.now();
      await simulateGpu(rt, sim, request, { chunkSteps: 32 });
      gpuSim.push((performance.now() - t) / 1000);
      t = performance.now();
      rolloutCpu(sim, cur, initial, allTests);
      cpuSim.push((performance.now() - t) / 1000);
    }
    const work = m * steps;
    const gpuRate = work / median(gpuSim);
    const cpuRate = work / median(cpuSim);

    // The service's default fit: λ chosen on held-out fitting runs (grid of 7), then a refit on
    // all of them, as POST /v1/simulators with "lambda": "auto" does.
    const universe = {
      trainIds: Array.from({ length: n }, (_, i) => `e${i}`),
      testIds: Array.from({ length: m }, (_, z) => `q${z}`),
    };
    const a0 = performance.now();
    const auto = await fitSimulator(rt, universe, fitting, {
      kind: "linear",
      lambdaFactor: "auto",
    });
    const autoSeconds = (performance.now() - a0) / 1000;

    const iterations = Array.from(report.iterations);
    return [
      {
        name: `simfluence-linear fit (GPU batched CG, λ factor ${LAMBDA_FACTOR}) ${shape}`,
        unit: "s",
        value: gpuSeconds,
        baselineName: `plain TypeScript float64 CG, ${cpuSample} test examples scaled to ${m}`,
        baseline: cpuSeconds,
        speedup: cpuSeconds / gpuSeconds,
        target: "<= 30 s on the software adapter",
        notes:
          `one sample; tol ${TOL}; CG iterations max ${Math.max(...iterations)} median ${
            median(iterations)
          }; converged ${report.converged}/${m}; max true relative residual ${
            Math.max(...report.relativeResidual).toExponential(2)
          }; GPU vs CPU θ relative difference ${Math.sqrt(num / den).toExponential(2)}; ` +
          `held-out all-steps MSE ${quality.pooled.allStepsMse.toExponential(3)}, final-step ` +
          `Spearman ${quality.pooled.finalStepSpearman.toFixed(3)} (${heldOut.length} runs)`,
      },
      {
        name: `simfluence-linear fit, λ auto (${auto.lambdaTrials.length} trials + refit) ${shape}`,
        unit: "s",
        value: autoSeconds,
        baselineName: "one GPU solve at a fixed λ factor (above)",
        baseline: gpuSeconds,
        speedup: gpuSeconds / autoSeconds,
        notes: `chose λ factor ${auto.params.lambdaFactor}; trials: ${
          auto.lambdaTrials.map((t) => `${t.factor}: ${t.seconds.toFixed(1)} s`).join(", ")
        }`,
      },
      {
        name: `simfluence rollout, ${m} test examples x ${steps} steps, batch ${batch}`,
        unit: "test-example-steps/s",
        value: gpuRate,
        baselineName: "plain TypeScript rollout",
        baseline: cpuRate,
        speedup: gpuRate / cpuRate,
        notes: "GPU time includes θ upload and one readback per 32-step chunk",
      },
    ];
  },
};
