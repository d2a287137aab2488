import assert from "node:assert/strict";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";
import { buildDesign, type Design, meanRowNormSq } from "../../src/simfluence/math/design.ts";
import {
  solveCgCpu,
  solveCgCpuCooperative,
  solveCholeskyCpu,
} from "../../src/simfluence/math/reference/solver.ts";
import { GpuRidgeSolver } from "../../src/simfluence/math/kernels/solver.ts";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import type { Run, SimulatorKind } from "../../src/simfluence/math/types.ts";

/** Runs drawn on the first `used` training indices of an n-index universe, plus repeats. */
function problem(seed: number, n: number, used: number, m: number, runs: number, steps: number) {
  const model = randomModel(seed, {
    n: used,
    m,
    aMean: -0.02,
    aSpread: 0.01,
    bMean: 0.02,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: m }, (_, z) => 1.5 + 0.37 * z);
  const generated = generateRuns(seed + 1, model, { runs, steps, batch: 3, noise: 0.01, initial });
  // Duplicate an index in some batches so that counts > 1 occur (losses stay as generated: the
  // solver only needs a consistent design, not the true model).
  const withRepeats: Run[] = generated.map((run) => ({
    ...run,
    batches: run.batches.map((
      b,
      t,
    ) => (t % 4 === 0 ? [...(b as number[]), (b as number[])[0]] : b)),
  }));
  return buildDesign(withRepeats, n, m);
}

function relativeError(
  got: { A: ArrayLike<number>; B: ArrayLike<number> },
  want: { A: ArrayLike<number>; B: ArrayLike<number> },
): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < want.A.length; k++) {
    num += (got.A[k] - want.A[k]) ** 2 + (got.B[k] - want.B[k]) ** 2;
    den += want.A[k] ** 2 + want.B[k] ** 2;
  }
  return Math.sqrt(num / den);
}

Deno.test("design: CSC is the transpose of CSR, repeats become counts, unseen ids listed", () => {
  const run: Run = {
    batches: [[0, 2, 2], { indices: [3, 0], counts: [2, 1] }],
    losses: new Float32Array(6),
  };
  const d = buildDesign([run], 5, 2);
  assert.deepEqual([...d.rowPtr], [0, 2, 4]);
  assert.deepEqual([...d.rowIdx], [0, 2, 3, 0]);
  assert.deepEqual([...d.rowCnt], [1, 2, 2, 1]);
  assert.deepEqual([...d.colPtr], [0, 2, 2, 3, 4, 4]);
  assert.deepEqual([...d.colRow], [0, 1, 0, 1]);
  assert.deepEqual([...d.colCnt], [1, 1, 2, 2]);
  assert.deepEqual(d.unseen, [1, 4]);
  assert.throws(() => buildDesign([{ ...run, batches: [[5], [0]] }], 5, 2), /outside/);
  assert.throws(() => buildDesign([{ ...run, losses: new Float32Array(5) }], 5, 2), /losses/);
});

Deno.test("CPU CG (float64) agrees with the Cholesky reference", () => {
  const d = problem(3, 9, 8, 4, 4, 25);
  for (const kind of ["linear", "additive", "multiplicative"] as SimulatorKind[]) {
    const lam = meanRowNormSq(d, kind).map((v) => 1e-3 * v);
    const chol = solveCholeskyCpu(d, kind, lam);
    const cg = solveCgCpu(d, kind, lam, undefined, { tol: 1e-10 });
    assert.ok(relativeError(cg, chol) < 1e-7, `${kind}: ${relativeError(cg, chol)}`);
    assert.ok(Math.max(...chol.relativeResidual) < 1e-9);
  }
});

Deno.test("cooperative CPU CG gives the reference's numbers exactly, and stops on abort", async () => {
  const d = problem(5, 30, 28, 5, 4, 30);
  const lam = meanRowNormSq(d, "linear").map((v) => 1e-3 * v);
  const want = solveCgCpu(d, "linear", lam, [4, 0, 2], { tol: 1e-10 });
  // sliceMs 0: a turn of the event loop after every iteration.
  const got = await solveCgCpuCooperative(d, "linear", lam, [4, 0, 2], { tol: 1e-10, sliceMs: 0 });
  assert.deepEqual(got, want);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error("solve cancelled")), 0);
  await assert.rejects(
    solveCgCpuCooperative(d, "linear", lam, undefined, {
      tol: 1e-10,
      sliceMs: 0,
      signal: controller.signal,
    }),
    /solve cancelled/,
  );
});

/** GPU CG in float32 against float64 Cholesky: relative 2-norm error of θ over all test examples. */
const GPU_TOLERANCE = 5e-4;

async function compareGpu(d: Design, kind: SimulatorKind, factor: number) {
  const rt = await testRuntime();
  const lam = meanRowNormSq(d, kind).map((v) => factor * v);
  const want = solveCholeskyCpu(d, kind, lam);
  const solver = GpuRidgeSolver.create(rt, d);
  try {
    const report = await solver.solve(kind, lam, { tol: 1e-6, maxIterations: 400, checkEvery: 8 });
    const got = await solver.readTheta();
    const err = relativeError(got, want);
    assert.ok(err < GPU_TOLERANCE, `${kind} n=${d.n} m=${d.m}: relative error ${err}`);
    assert.equal(report.converged, d.m, `iterations ${report.iterations}`);
    assert.ok(Math.max(...report.relativeResidual) < 1e-4, `relres ${report.relativeResidual}`);
    for (const i of d.unseen) {
      for (let z = 0; z < d.m; z++) {
        assert.equal(got.A[i * d.m + z], 0);
        assert.equal(got.B[i * d.m + z], 0);
      }
    }
    if (kind === "additive") assert.ok(got.A.every((v) => v === 0));
    if (kind === "multiplicative") assert.ok(got.B.every((v) => v === 0));
    return { solver, lam, report, want };
  } catch (e) {
    solver.dispose();
    throw e;
  }
}

Deno.test(
  "GPU CG agrees with the CPU reference on odd shapes and all kinds",
  gpuTest,
  async (t) => {
    const shapes: [number, number, number, number, number][] = [
      // n, used, m, runs, steps
      [13, 11, 7, 5, 24],
      [5, 5, 1, 3, 10],
      [70, 67, 9, 6, 40],
    ];
    for (const [n, used, m, runs, steps] of shapes) {
      const d = problem(n * 7 + m, n, used, m, runs, steps);
      for (const kind of ["linear", "additive", "multiplicative"] as SimulatorKind[]) {
        await t.step(`${kind} n=${n} m=${m}`, async () => {
          const { solver } = await compareGpu(d, kind, 1e-3);
          solver.dispose();
        });
      }
    }
  },
);

Deno.test(
  "GPU CG warm start: re-solving from the solution takes no iterations",
  gpuTest,
  async () => {
    const d = problem(11, 20, 18, 6, 4, 30);
    const { solver, lam, report, want } = await compareGpu(d, "linear", 1e-2);
    try {
      assert.ok(Math.max(...report.iterations) > 3);
      const again = await solver.solve("linear", lam, { tol: 1e-4 });
      assert.ok(Math.max(...again.iterations) <= 1, `iterations ${again.iterations}`);
      assert.ok(relativeError(await solver.readTheta(), want) < GPU_TOLERANCE);
    } finally {
      solver.dispose();
    }
  },
);
