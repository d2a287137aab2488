// trak scores both ways: the batched BLAS path (dgemm + dpotrf + multi-rhs dpotrs) against the
// TypeScript loops, in both regimes (M ≥ k: Cholesky of ΦᵀΦ + λI; M < k: Woodbury), on odd sizes,
// and the same refusal of a singular system.
import assert from "node:assert/strict";
import { gradientScores } from "../../src/projection/scores.ts";
import { selectLinearAlgebra } from "../../src/linalg/select.ts";
import { typescriptRoutines } from "../../src/linalg/typescript.ts";
import { frobenius, maxAbsDiff, openblasTest, randomMatrix } from "./helpers.ts";

openblasTest("trak: OpenBLAS and TypeScript scores agree in both regimes", () => {
  const openblas = selectLinearAlgebra().routines;
  assert.equal(openblas.backend, "openblas");
  for (const [M, Q, k] of [[41, 5, 13], [9, 3, 37], [1, 1, 1], [17, 2, 17]]) {
    const train = Float32Array.from(randomMatrix(M, k, M + k));
    const queries = Float32Array.from(randomMatrix(Q, k, Q * 3 + k));
    for (const damping of [null, 0.013]) {
      const input = { train, queries, M, Q, k, method: "trak" as const, damping };
      const got = gradientScores(input, openblas);
      const want = gradientScores(input, typescriptRoutines);
      assert.equal(got.damping, want.damping);
      const diff = maxAbsDiff(got.scores, want.scores);
      assert.ok(diff <= 1e-10 * frobenius(want.scores), `${M}×${Q}×${k} λ=${damping}: ${diff}`);
    }
  }
});

openblasTest("trak: a singular system is refused the same way on both paths", () => {
  const input = {
    train: new Float32Array(3 * 5).fill(1),
    queries: new Float32Array(5).fill(1),
    M: 3,
    Q: 1,
    k: 5,
    method: "trak" as const,
    damping: 0,
  };
  for (const la of [selectLinearAlgebra().routines, typescriptRoutines]) {
    assert.throws(
      () => gradientScores(input, la),
      (e: Error & { details?: { field?: string } }) => e.details?.field === "damping",
    );
  }
});
