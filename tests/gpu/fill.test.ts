// fill: every element of a contiguous tensor (or view) set to one value. The expected output is
// the value itself, so there is no separate reference (see tests/kernel_index.test.ts).
import assert from "node:assert/strict";
import { fill } from "../../src/gpu/kernels/fill.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const LENGTHS = [1, 7, 33, 64, 257, 1000];

Deno.test("fill on odd lengths and an offset view", gpuTest, async () => {
  const rt = await testRuntime();
  for (const n of LENGTHS) {
    // The [n] tensor starts n elements into its buffer, which holds other data.
    const target = rt.tensor(randomF32(2 * n, n), [2, n]).select(1);
    await fill(rt, target, -3.25);
    assert.deepEqual([...await rt.readOne(target)], new Array(n).fill(-3.25));
  }
});

Deno.test("a fill over more than 65535 workgroups uses the folded grid", gpuTest, async () => {
  const rt = await testRuntime();
  const n = 65535 * 64 + 77;
  const t = rt.zeros([n]);
  await fill(rt, t, 3);
  const out = await rt.readOne(t);
  assert.equal(out[0], 3);
  assert.equal(out[n - 1], 3);
  assert.equal(out.filter((v) => v !== 3).length, 0);
  t.dispose();
});
