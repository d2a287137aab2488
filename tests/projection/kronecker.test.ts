// projection_kronecker against its float64 reference on odd shapes, into a column block of a
// wider matrix.
import { kroneckerOuterSum } from "../../src/projection/kernels/kronecker.ts";
import { kroneckerOuterSumReference } from "../../src/projection/reference/kronecker.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("projection kronecker: Σ_t sp ⊗ ap on odd shapes", gpuTest, async () => {
  const rt = await testRuntime();
  for (const [B, T, ko, ki] of [[1, 1, 1, 1], [3, 7, 5, 3], [2, 33, 17, 9], [5, 3, 64, 31]]) {
    const sp = randomF32(B * T * ko, B + T + ko);
    const ap = randomF32(B * T * ki, ki * 3 + 1);
    const want = kroneckerOuterSumReference(sp, ap, B, T, ko, ki);
    const wide = ko * ki + 5, at = 3;
    const spT = rt.tensor(sp, [B, T, ko]);
    const apT = rt.tensor(ap, [B, T, ki]);
    const outT = rt.tensor(new Float32Array(B * wide).fill(7), [B, wide]);
    await kroneckerOuterSum(rt, spT, apT, outT.view([B, ko * ki], [wide, 1], at));
    const got = await rt.readOne(outT);
    const expected = new Float64Array(B * wide).fill(7);
    const scale = new Float64Array(B * wide);
    for (let b = 0; b < B; b++) {
      for (let e = 0; e < ko * ki; e++) {
        expected[b * wide + at + e] = want[b * ko * ki + e];
        // |Σ_t| ≤ Σ_t |sp||ap| ≤ T for entries in [-1, 1].
        scale[b * wide + at + e] = T;
      }
    }
    assertClose(got, expected, { rel: (T + 1) * 2 ** -24, scale }, `${B}x${T}x${ko}x${ki}`);
    for (const t of [spT, apT, outT]) t.dispose();
  }
});
