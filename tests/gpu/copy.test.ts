// Contiguous copy, and strided copy that materialises views. Pure data movement is exact, so
// results must equal the references bit for bit.
import assert from "node:assert/strict";
import { contiguous, copy, simplifyLayout, stridedCopy } from "../../src/gpu/kernels/copy.ts";
import { gather } from "../../src/gpu/reference/copy.ts";
import { transposeBatched } from "../../src/gpu/reference/transpose.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test({
  name: "copies match references exactly",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();

    await t.step("contiguous copy, including from an offset view", async () => {
      const x = randomF32(3 * 257, 5);
      const out = rt.zeros([257]);
      await copy(rt, rt.tensor(x, [3, 257]).select(2), out);
      assert.deepEqual([...await rt.readOne(out)], [...x.subarray(2 * 257)]);
    });

    await t.step("strided copy materialises transposeView and batch-slice views", async () => {
      const x = randomF32(3 * 5 * 9, 6);
      const base = rt.tensor(x, [3, 5, 9]);
      const views = [
        base.transposeView(), // [3, 9, 5]
        base.select(1).transposeView(), // offset + [9, 5]
        base.view([5, 3], [1, 9], 4), // a strided column pick
        base.view([3, 2, 2, 9], [45, 18, 9, 1], 0), // merges down to rank 2
        base.view([3, 5, 3, 3], [45, 9, 1, 3], 0), // rank 4, no merges
      ];
      for (const v of views) {
        const out = rt.zeros(v.shape);
        await copy(rt, v, out);
        assert.deepEqual(
          [...await rt.readOne(out)],
          [...gather(x, v.shape, v.strides, v.offset)],
          `view [${v.shape}] strides [${v.strides}] offset ${v.offset}`,
        );
        const materialised = await contiguous(rt, v);
        assert.ok(materialised.isContiguous);
        assert.deepEqual([...await rt.readOne(materialised)], [...await rt.readOne(out)]);
      }
    });

    await t.step("strided copy of a large transposed view (folded grid)", async () => {
      const rows = 300;
      const cols = 1001;
      const x = randomF32(rows * cols, 8);
      const v = rt.tensor(x, [rows, cols]).transposeView();
      const out = rt.zeros(v.shape);
      await stridedCopy(rt, v, out);
      // Exact, reported as the first mismatch rather than a 300k-element diff.
      assertClose(
        await rt.readOne(out),
        transposeBatched(x, 1, rows, cols),
        { abs: 0 },
        "[1001, 300]",
      );
    });

    await t.step("simplifyLayout drops unit axes and merges contiguous runs", () => {
      assert.deepEqual(simplifyLayout([2, 3, 4], [12, 4, 1]), { shape: [24], strides: [1] });
      assert.deepEqual(simplifyLayout([4, 1, 3], [1, 99, 4]), { shape: [4, 3], strides: [1, 4] });
      assert.deepEqual(simplifyLayout([2, 3, 4], [1, 8, 2]), { shape: [2, 12], strides: [1, 2] });
      assert.deepEqual(simplifyLayout([2, 3, 4], [1, 9, 2]), {
        shape: [2, 3, 4],
        strides: [1, 9, 2],
      });
    });

    await t.step("bad shapes, aliasing and unmergeable rank-5 views are RangeErrors", async () => {
      const x = rt.zeros([4, 6]);
      await assert.rejects(copy(rt, x, rt.zeros([6, 4])), /\[6, 4\].*\[4, 6\]/);
      await assert.rejects(copy(rt, x, x), /shares a GPU buffer/);
      await assert.rejects(
        copy(rt, x.transposeView(), rt.zeros([4, 6]).transposeView()),
        /not contiguous/,
      );
      const wide = rt.zeros([2, 2, 2, 2, 2]);
      const scrambled = wide.view([2, 2, 2, 2, 2], [16, 1, 8, 2, 4]);
      await assert.rejects(stridedCopy(rt, scrambled, rt.zeros([2, 2, 2, 2, 2])), /at most 4/);
    });
  },
});
