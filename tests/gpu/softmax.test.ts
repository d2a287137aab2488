// Row softmax and log-sum-exp against float64 references, for both row strategies, on odd shapes,
// large-magnitude inputs, and a fast-check property (rows sum to 1; adding a constant changes
// nothing).
import assert from "node:assert/strict";
import fc from "fast-check";
import { logSumExp, type RowStrategy, softmax } from "../../src/gpu/kernels/softmax.ts";
import {
  logSumExpErrorScale,
  logSumExpRows,
  softmaxErrorScale,
  softmaxRows,
} from "../../src/gpu/reference/softmax.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const U = 2 ** -24;
// Results under this may flush to zero on the GPU.
const TINY = 1e-30;
const SHAPES: [number, number][] = [[1, 1], [1, 7], [7, 33], [3, 1000], [1000, 3], [33, 257], [
  5,
  64,
]];
const STRATEGIES: RowStrategy[] = ["row-per-invocation", "row-per-workgroup"];

async function check(
  rt: GpuRuntime,
  x: Float32Array,
  rows: number,
  cols: number,
  options: { strategy: RowStrategy; workgroupSize?: number },
  what: string,
): Promise<void> {
  const xt = rt.tensor(x, [rows, cols]);
  const p = rt.zeros([rows, cols]);
  const lse = rt.zeros([rows]);
  await softmax(rt, xt, p, options);
  await logSumExp(rt, xt, lse, options);
  const [pv, lv] = await rt.read([p, lse]);
  assertClose(pv, softmaxRows(x, rows, cols), {
    abs: TINY,
    rel: U,
    scale: softmaxErrorScale(x, rows, cols),
  }, `softmax ${what}`);
  assertClose(lv, logSumExpRows(x, rows, cols), {
    rel: U,
    scale: logSumExpErrorScale(x, rows, cols),
  }, `logSumExp ${what}`);
  for (const t of [xt, p, lse]) t.dispose();
}

Deno.test({
  name: "softmax and log-sum-exp match float64 references",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();

    for (const strategy of STRATEGIES) {
      await t.step(`${strategy}: odd shapes`, async () => {
        for (const [rows, cols] of SHAPES) {
          const x = randomF32(rows * cols, rows * 131 + cols, -6, 6);
          await check(rt, x, rows, cols, { strategy }, `${strategy} [${rows}, ${cols}]`);
        }
      });

      await t.step(`${strategy}: inputs of magnitude 1000 stay finite and accurate`, async () => {
        const rows = 9;
        const cols = 37;
        const x = randomF32(rows * cols, 77, -1000, 1000);
        // A row pinned at +1000 with ties, and one at -1000: exp(±1000) overflows without the max shift.
        for (let c = 0; c < cols; c++) {
          x[c] = 1000 - (c % 3);
          x[cols + c] = -1000 + (c % 5);
        }
        await check(rt, x, rows, cols, { strategy }, `${strategy} ±1000`);
      });
    }

    await t.step("row-per-workgroup with other workgroup sizes", async () => {
      for (const workgroupSize of [1, 8, 32, 128]) {
        const x = randomF32(5 * 300, workgroupSize, -6, 6);
        await check(
          rt,
          x,
          5,
          300,
          { strategy: "row-per-workgroup", workgroupSize },
          `wg=${workgroupSize}`,
        );
      }
    });

    await t.step("rank-3 input: rows are the leading axes; lse may be [b, r]", async () => {
      const x = randomF32(2 * 3 * 5, 5);
      const xt = rt.tensor(x, [2, 3, 5]);
      const p = rt.zeros([2, 3, 5]);
      const lse = rt.zeros([2, 3]);
      await softmax(rt, xt, p);
      await logSumExp(rt, xt, lse);
      const [pv, lv] = await rt.read([p, lse]);
      assertClose(pv, softmaxRows(x, 6, 5), {
        abs: TINY,
        rel: U,
        scale: softmaxErrorScale(x, 6, 5),
      });
      assertClose(lv, logSumExpRows(x, 6, 5), { rel: U, scale: logSumExpErrorScale(x, 6, 5) });
    });

    await t.step("property: rows sum to 1 and adding a constant changes nothing", async () => {
      // x on a 2^-10 grid in [-20, 20] and integer shifts keep x + c exact in f32, so the
      // shifted softmax must be bit-identical.
      const input = fc.record({
        rows: fc.integer({ min: 1, max: 5 }),
        cols: fc.integer({ min: 1, max: 40 }),
        shift: fc.integer({ min: -100, max: 100 }),
        strategy: fc.constantFrom<RowStrategy>(...STRATEGIES),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      }).chain((r) =>
        fc.tuple(
          fc.constant(r),
          fc.array(fc.integer({ min: -20480, max: 20480 }), {
            minLength: r.rows * r.cols,
            maxLength: r.rows * r.cols,
          }),
        )
      );
      await fc.assert(
        fc.asyncProperty(input, async ([{ rows, cols, shift, strategy }, ints]) => {
          const x = Float32Array.from(ints, (v) => v / 1024);
          const shifted = x.map((v) => v + shift);
          const a = rt.zeros([rows, cols]);
          const b = rt.zeros([rows, cols]);
          await softmax(rt, rt.tensor(x, [rows, cols]), a, { strategy });
          await softmax(rt, rt.tensor(shifted, [rows, cols]), b, { strategy });
          const [av, bv] = await rt.read([a, b]);
          assert.deepEqual(bv, av);
          for (let r = 0; r < rows; r++) {
            let sum = 0;
            for (let c = 0; c < cols; c++) sum += av[r * cols + c];
            // Each p carries a few ULP; the f32 row sum adds up to cols·u.
            assert.ok(Math.abs(sum - 1) <= (cols + 8) * 2 * U, `row ${r} sums to ${sum}`);
          }
          a.dispose();
          b.dispose();
        }),
        { numRuns: 25, seed: 20240611 },
      );
    });

    await t.step("bad shapes are RangeErrors naming the shapes", async () => {
      const x = rt.zeros([4, 6]);
      await assert.rejects(softmax(rt, x, rt.zeros([6, 4])), /\[6, 4\].*\[4, 6\]/);
      await assert.rejects(logSumExp(rt, x, rt.zeros([6])), /\[6\]/);
      await assert.rejects(softmax(rt, rt.zeros([4, 0]), rt.zeros([4, 0])), /empty rows/);
      await assert.rejects(softmax(rt, x, x), /shares a GPU buffer/);
      await assert.rejects(softmax(rt, x, rt.zeros([4, 6]), { workgroupSize: 48 }), /power of two/);
    });
  },
});
