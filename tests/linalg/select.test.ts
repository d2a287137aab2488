// The selector: OpenBLAS when it opens, and otherwise the TypeScript routines with a status that
// names the reason and the apt line, one warning at start-up, and results equal to the reference.
import assert from "node:assert/strict";
import { eigh } from "../../src/influence/eigh.ts";
import { svd } from "../../src/influence/svd.ts";
import { createLogger } from "../../src/log.ts";
import { OPENBLAS_INSTALL, openOpenBlas } from "../../src/linalg/openblas.ts";
import {
  linearAlgebra,
  linearAlgebraStatus,
  logLinearAlgebra,
  selectLinearAlgebra,
} from "../../src/linalg/select.ts";
import { maxAbsDiff, openblasTest, randomMatrix, randomSpd, randomSymmetric } from "./helpers.ts";

const missing = () => openOpenBlas(["/nonexistent/libopenblas.so.0"]);

Deno.test("select: a library that cannot be opened falls back to the TypeScript routines", () => {
  const { routines, status } = selectLinearAlgebra(missing);
  assert.equal(routines.backend, "typescript");
  assert.equal(status.backend, "typescript");
  assert.equal(status.library, null);
  assert.equal(status.install, OPENBLAS_INSTALL);
  assert.match(status.unavailableReason ?? "", /\/nonexistent\/libopenblas\.so\.0/);
  // The fallback is exactly the reference code.
  const n = 19;
  const a = randomSymmetric(n, 4);
  assert.deepEqual(routines.symmetricEigen(a, n), eigh(a, n));
  const m = randomMatrix(11, 6, 5);
  assert.deepEqual(routines.svd(m, 11, 6), svd(m, 11, 6));
  const spd = randomSpd(n, n, 1, 6);
  const b = randomMatrix(3, n, 7);
  const x = b.slice();
  assert.equal(routines.cholesky(spd, n), true);
  routines.choleskySolve(spd, n, x, 3);
  const a2 = randomSpd(n, n, 1, 6);
  // A·x = b for each of the three right-hand sides.
  for (let r = 0; r < 3; r++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a2[i * n + j] * x[r * n + j];
      assert.ok(Math.abs(s - b[r * n + i]) <= 1e-9 * (1 + Math.abs(b[r * n + i])));
    }
  }
});

Deno.test("select: the fallback is logged once, as a warning naming the apt line", () => {
  const lines: string[] = [];
  const logger = createLogger({ sink: (l) => lines.push(l) });
  logLinearAlgebra(logger, selectLinearAlgebra(missing).status);
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]);
  assert.equal(entry.level, "warn");
  assert.ok(entry.msg.includes(OPENBLAS_INSTALL));
  assert.match(entry.reason, /nonexistent/);
});

openblasTest("select: with the library installed the process uses OpenBLAS, and says so", () => {
  const status = linearAlgebraStatus();
  assert.equal(status.backend, "openblas", `expected OpenBLAS (${OPENBLAS_INSTALL})`);
  assert.ok(status.library?.endsWith("libopenblas.so.0"));
  assert.ok((status.threads ?? 0) >= 1);
  assert.equal(linearAlgebra().backend, "openblas");
  const lines: string[] = [];
  logLinearAlgebra(createLogger({ sink: (l) => lines.push(l) }));
  assert.equal(JSON.parse(lines[0]).level, "info");
  const n = 23;
  const a = randomSymmetric(n, 8);
  const got = linearAlgebra().symmetricEigen(a, n);
  assert.ok(maxAbsDiff(got.values, eigh(a, n).values) <= 1e-12 * 10);
});
