// influence_correction against its float64 reference on odd shapes.
import { squareAccumulate } from "../../src/influence/kernels/correction.ts";
import { squareAccumulateReference } from "../../src/influence/reference/correction.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("influence correction: Λ += Σ_b g_b² on odd shapes", gpuTest, async () => {
  const rt = await testRuntime();
  for (const [batch, size] of [[1, 1], [3, 67], [9, 130], [2, 1001]]) {
    const g = randomF32(batch * size, batch * 31 + size);
    const lambda = randomF32(size, size, 0, 2);
    const gT = rt.tensor(g, [batch, size]);
    const lambdaT = rt.tensor(lambda);
    await squareAccumulate(rt, gT, lambdaT);
    const want = squareAccumulateReference(g, batch, size, lambda);
    assertClose(
      await rt.readOne(lambdaT),
      want,
      { rel: (batch + 2) * 2 ** -24 },
      `${batch}x${size}`,
    );
    gT.dispose();
    lambdaT.dispose();
  }
});
