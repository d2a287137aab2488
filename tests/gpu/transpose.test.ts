// Tiled batched transpose. Pure data movement is exact, so results must equal the reference bit
// for bit.
import assert from "node:assert/strict";
import { transpose } from "../../src/gpu/kernels/transpose.ts";
import { transposeBatched } from "../../src/gpu/reference/transpose.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 33],
  [1, 33, 7],
  [1, 1000, 3],
  [1, 3, 1000],
  [3, 17, 33],
  [5, 1, 9],
  [2, 16, 16],
  [1, 0, 4],
];

Deno.test({
  name: "transpose matches the reference exactly",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();

    for (const tile of [16, 8, 3]) {
      await t.step(`batched transpose, tile ${tile}`, async () => {
        for (const [b, r, c] of SHAPES) {
          const x = randomF32(b * r * c, b + r + c);
          const out = rt.zeros([b, c, r]);
          await transpose(rt, rt.tensor(x, [b, r, c]), out, { tile });
          assert.deepEqual(
            [...await rt.readOne(out)],
            [...transposeBatched(x, b, r, c)],
            `[${b}, ${r}, ${c}]`,
          );
        }
      });
    }

    await t.step("rank-2 transpose from an offset view", async () => {
      const x = randomF32(2 * 7 * 33, 4);
      const out = rt.zeros([33, 7]);
      await transpose(rt, rt.tensor(x, [2, 7, 33]).select(1), out);
      assert.deepEqual([...await rt.readOne(out)], [
        ...transposeBatched(x.subarray(7 * 33), 1, 7, 33),
      ]);
    });

    await t.step("bad shapes and tiles are RangeErrors", async () => {
      const x = rt.zeros([4, 6]);
      await assert.rejects(transpose(rt, x, rt.zeros([4, 6])), /\[4, 6\].*\[6, 4\]/);
      await assert.rejects(transpose(rt, x, rt.zeros([6, 4]), { tile: 64 }), /tile 64/);
    });
  },
});
