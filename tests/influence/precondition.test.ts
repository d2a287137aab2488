// influence_precondition against its float64 reference on odd shapes.
import assert from "node:assert/strict";
import { precondition } from "../../src/influence/kernels/precondition.ts";
import { preconditionReference } from "../../src/influence/reference/precondition.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("influence precondition: g ⊘ (Λ + λ) on odd shapes", gpuTest, async () => {
  const rt = await testRuntime();
  for (const [rows, size, damping] of [[1, 1, 0.5], [5, 97, 1e-3], [17, 33, 0.1]]) {
    const g = randomF32(rows * size, rows + size);
    const lambda = randomF32(size, size + 1, 0, 1);
    const gT = rt.tensor(g, [rows, size]);
    const lambdaT = rt.tensor(lambda);
    const out = rt.zeros([rows, size]);
    await precondition(rt, gT, lambdaT, damping, out);
    const want = preconditionReference(g, rows, size, lambda, damping);
    // One f32 add and one division: a few units in the last place of the quotient.
    assertClose(await rt.readOne(out), want, { rel: 4 * 2 ** -24 }, `${rows}x${size}`);
    for (const t of [gT, lambdaT, out]) t.dispose();
  }
  await assert.rejects(
    () => precondition(rt, rt.zeros([2, 3]), rt.zeros([3]), NaN, rt.zeros([2, 3])),
    RangeError,
  );
});
