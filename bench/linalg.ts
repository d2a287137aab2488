// Float64 linear algebra on the CPU: OpenBLAS's LAPACK/BLAS (src/linalg/) beside the TypeScript
// routines it replaces, in the same run. Symmetric eigendecompositions (EK-FAC's factors: 3,072
// is GPT-2-124M's MLP width) and trak scores from stored gradients. Medians; the TypeScript
// eigendecomposition at 3,072 takes ~30 s, so it runs once there.
import { median } from "../src/gpu/autotune.ts";
import { type LinearAlgebra, selectLinearAlgebra } from "../src/linalg/select.ts";
import { typescriptRoutines } from "../src/linalg/typescript.ts";
import { gradientScores } from "../src/projection/scores.ts";
import { seededUniform } from "../src/random.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

function seconds(work: () => void, repeats: number): number {
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    work();
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

/** A covariance-like symmetric PSD matrix: XᵀX / n for a uniform X [n, n]. */
function covariance(n: number, openblas: LinearAlgebra): Float64Array {
  const next = seededUniform(5);
  const x = Float64Array.from({ length: n * n }, () => next() - 0.5);
  const a = new Float64Array(n * n);
  openblas.dgemm(true, false, n, n, n, 1 / n, x, x, 0, a);
  return a;
}

function eigenFigure(n: number, openblas: LinearAlgebra, typescriptRepeats: number): BenchFigure {
  const a = covariance(n, openblas);
  const lapack = seconds(() => openblas.symmetricEigen(a, n), 3);
  const reference = seconds(() => typescriptRoutines.symmetricEigen(a, n), typescriptRepeats);
  return {
    name: `float64 eigendecomposition ${n}x${n}, OpenBLAS dsyevd (values and vectors)`,
    unit: "s",
    value: lapack,
    baselineName: `TypeScript eigh, same matrix${typescriptRepeats === 1 ? ", one run" : ""}`,
    baseline: reference,
    speedup: reference / lapack,
    target: n === 3072 ? "≤ 3 s" : undefined,
  };
}

function trakFigure(quick: boolean, openblas: LinearAlgebra): BenchFigure {
  // The projection suite's scoring shape (bench/projection.ts).
  const M = quick ? 512 : 2048, Q = 32, k = 1024;
  const next = seededUniform(3);
  const train = Float32Array.from({ length: M * k }, () => next() * 2 - 1);
  const queries = Float32Array.from({ length: Q * k }, () => next() * 2 - 1);
  const rate = (la: LinearAlgebra) =>
    (M * Q) / seconds(() => gradientScores({ train, queries, M, Q, k, method: "trak" }, la), 3);
  const lapack = rate(openblas);
  const reference = rate(typescriptRoutines);
  return {
    name: `trak scores from stored gradients, ${Q} x ${M}, k=${k}, OpenBLAS (float64, CPU)`,
    unit: "pairs/s",
    value: lapack,
    baselineName: "the TypeScript loops, same sets",
    baseline: reference,
    speedup: lapack / reference,
    notes: "dgemm for ΦᵀΦ and the scores, dpotrf, one dpotrs over all queries",
  };
}

function dgemmFigure(n: number, openblas: LinearAlgebra): BenchFigure {
  const next = seededUniform(9);
  const a = Float64Array.from({ length: n * n }, () => next() - 0.5);
  const c = new Float64Array(n * n);
  const flops = 2 * n * n * n;
  const lapack = flops / seconds(() => openblas.dgemm(false, false, n, n, n, 1, a, a, 0, c), 3) /
    1e9;
  const reference = flops /
    seconds(() => typescriptRoutines.dgemm(false, false, n, n, n, 1, a, a, 0, c), 1) /
    1e9;
  return {
    name: `float64 matrix product ${n}x${n}x${n}, OpenBLAS cblas_dgemm`,
    unit: "GFLOP/s",
    value: lapack,
    baselineName: "a TypeScript i-p-j loop, one run",
    baseline: reference,
    speedup: lapack / reference,
  };
}

export const linalgSuite: BenchSuite = {
  name: "linalg",
  run: (_rt, { quick }) => {
    const { routines, status } = selectLinearAlgebra();
    if (routines.backend !== "openblas") {
      throw new Error(
        `OpenBLAS could not be opened (${status.install}): ${status.unavailableReason}`,
      );
    }
    const sizes = quick ? [768] : [768, 1536, 3072];
    return Promise.resolve([
      ...sizes.map((n) => eigenFigure(n, routines, n >= 1536 ? 1 : 3)),
      trakFigure(quick, routines),
      dgemmFigure(quick ? 512 : 1024, routines),
    ]);
  },
};
