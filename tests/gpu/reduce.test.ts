// Row sums, batched row dots, column sums and the two-pass dot product against float64
// references. Float inputs are checked against the summation error bound
// |error| <= (n + 1)·u·sum|terms| (n terms in any order, plus a product's rounding); small
// integer inputs are summed exactly in f32, so those results must be exact, which catches a
// dropped or doubled term that the bound alone might hide.
import assert from "node:assert/strict";
import { colSum, dot, rowDot, type RowStrategy, rowSum } from "../../src/gpu/kernels/reduce.ts";
import { colSums, dot as refDot, rowSums } from "../../src/gpu/reference/reduce.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32, randomInts } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const U = 2 ** -24;
const SHAPES: [number, number][] = [[1, 1], [1, 7], [7, 33], [3, 1000], [1000, 3], [33, 257], [
  4,
  64,
], [2, 0]];
const STRATEGIES: RowStrategy[] = ["row-per-invocation", "row-per-workgroup"];

function sumTolerance(n: number, magnitude: Float64Array) {
  return { rel: (n + 1) * U, scale: magnitude };
}

Deno.test({
  name: "reductions match float64 references",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();

    for (const strategy of STRATEGIES) {
      await t.step(`rowSum and rowDot, ${strategy}`, async () => {
        for (const [rows, cols] of SHAPES) {
          for (
            const [kind, a, b] of [
              [
                "float",
                randomF32(rows * cols, rows + cols),
                randomF32(rows * cols, rows * cols + 1),
              ],
              [
                "int",
                randomInts(rows * cols, rows + 2 * cols, -8, 8),
                randomInts(rows * cols, 9, -8, 8),
              ],
            ] as const
          ) {
            const at = rt.tensor(a, [rows, cols]);
            const bt = rt.tensor(b, [rows, cols]);
            const sums = rt.zeros([rows]);
            const dots = rt.zeros([rows]);
            await rowSum(rt, at, sums, { strategy });
            await rowDot(rt, at, bt, dots, { strategy });
            const [sv, dv] = await rt.read([sums, dots]);
            const refSum = rowSums(a, rows, cols);
            const refDots = rowSums(a, rows, cols, b);
            const what = `${kind} [${rows}, ${cols}] ${strategy}`;
            if (kind === "int") {
              assert.deepEqual([...sv], [...refSum.value], `rowSum ${what}`);
              assert.deepEqual([...dv], [...refDots.value], `rowDot ${what}`);
            } else {
              assertClose(sv, refSum.value, sumTolerance(cols, refSum.magnitude), `rowSum ${what}`);
              assertClose(
                dv,
                refDots.value,
                sumTolerance(cols, refDots.magnitude),
                `rowDot ${what}`,
              );
            }
            for (const x of [at, bt, sums, dots]) x.dispose();
          }
        }
      });
    }

    await t.step("rowSum with other workgroup sizes", async () => {
      for (const workgroupSize of [1, 16, 256]) {
        const a = randomInts(3 * 517, workgroupSize, -100, 100);
        const out = rt.zeros([3]);
        await rowSum(rt, rt.tensor(a, [3, 517]), out, {
          strategy: "row-per-workgroup",
          workgroupSize,
        });
        assert.deepEqual([...await rt.readOne(out)], [...rowSums(a, 3, 517).value]);
      }
    });

    await t.step("colSum, in one pass and split into row blocks", async () => {
      for (const [rows, cols] of [...SHAPES, [0, 5] as [number, number], [700, 2]]) {
        for (const rowsPerBlock of [1, 7, 256]) {
          const a = randomF32(rows * cols, 3 * rows + cols);
          const ints = randomInts(rows * cols, rows + cols, -8, 8);
          const out = rt.zeros([cols]);
          const exact = rt.zeros([cols]);
          await colSum(rt, rt.tensor(a, [rows, cols]), out, { rowsPerBlock });
          await colSum(rt, rt.tensor(ints, [rows, cols]), exact, { rowsPerBlock });
          const [ov, ev] = await rt.read([out, exact]);
          const ref = colSums(a, rows, cols);
          const what = `[${rows}, ${cols}] rowsPerBlock=${rowsPerBlock}`;
          assertClose(ov, ref.value, sumTolerance(rows, ref.magnitude), `colSum ${what}`);
          assert.deepEqual([...ev], [...colSums(ints, rows, cols).value], `colSum ints ${what}`);
        }
      }
    });

    await t.step(
      "dot: one pass, two passes, and partial counts that are not powers of two",
      async () => {
        for (const n of [0, 1, 7, 33, 257, 1000, 100_003]) {
          for (const maxPartials of [1, 37, 256]) {
            const x = randomF32(n, n + 1, -2, 2);
            const y = randomF32(n, n + 2, -2, 2);
            const xi = randomInts(n, n + 3, -8, 8);
            const yi = randomInts(n, n + 4, -8, 8);
            const out = rt.zeros([1]);
            const exact = rt.zeros([1]);
            await dot(rt, rt.tensor(x), rt.tensor(y), out, { maxPartials });
            await dot(rt, rt.tensor(xi), rt.tensor(yi), exact, { maxPartials });
            const [ov, ev] = await rt.read([out, exact]);
            const ref = refDot(x, y);
            assertClose(
              ov,
              ref.value,
              sumTolerance(n, ref.magnitude),
              `dot n=${n} partials<=${maxPartials}`,
            );
            assert.equal(
              ev[0],
              refDot(xi, yi).value[0],
              `dot ints n=${n} partials<=${maxPartials}`,
            );
          }
        }
      },
    );

    await t.step("bad shapes are RangeErrors naming the shapes", async () => {
      const a = rt.zeros([4, 6]);
      await assert.rejects(rowSum(rt, a, rt.zeros([6])), /\[6\].*\[4\].*\[4, 6\]/);
      await assert.rejects(colSum(rt, a, rt.zeros([4])), /\[4\].*\[6\]/);
      await assert.rejects(rowDot(rt, a, rt.zeros([6, 4]), rt.zeros([4])), /\[6, 4\].*\[4, 6\]/);
      await assert.rejects(dot(rt, rt.zeros([3]), rt.zeros([4]), rt.zeros([1])), /\[4\].*\[3\]/);
      await assert.rejects(dot(rt, rt.zeros([3]), rt.zeros([3]), rt.zeros([2])), /\[2\]/);
      await assert.rejects(rowSum(rt, a.transposeView(), rt.zeros([6])), /not contiguous/);
    });
  },
});
