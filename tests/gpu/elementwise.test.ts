// Elementwise kernels (add, scale, axpy, GELU forward/backward and the backward's tangent)
// against float64 references.
import assert from "node:assert/strict";
import {
  add,
  axpy,
  gelu,
  geluBackward,
  geluBackwardTangent,
  scale,
} from "../../src/gpu/kernels/elementwise.ts";
import * as ref from "../../src/gpu/reference/elementwise.ts";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const LENGTHS = [1, 7, 33, 64, 257, 1000];
// Unit roundoff of f32.
const U = 2 ** -24;

/** A [n] tensor holding `data` that starts `n` elements into its buffer (exercises offsets). */
function offsetTensor(rt: GpuRuntime, data: Float32Array): Tensor {
  const n = data.length;
  const both = new Float32Array(2 * n).fill(NaN);
  both.set(data, n);
  return rt.tensor(both, [2, n]).select(1);
}

function magnitudes(...parts: ArrayLike<number>[]): Float64Array {
  return Float64Array.from(parts[0], (_, i) => parts.reduce((s, p) => s + Math.abs(p[i]), 0));
}

// A few ULP times the conditioning of each value (see geluErrorScale): measured worst ratio about
// 0.5 of this over 10^6 inputs in [-12, 12]. Results under 1e-30 may flush to zero.
const GELU_REL = 2 ** -21;
const GELU_ABS = 1e-30;

function geluTolerance(x: Float32Array) {
  return { abs: GELU_ABS, rel: GELU_REL, scale: Float64Array.from(x, ref.geluErrorScale) };
}

function geluGradTolerance(x: Float32Array, dy: Float32Array) {
  const scale = Float64Array.from(x, (v, i) => Math.abs(dy[i]) * ref.geluGradErrorScale(v));
  return { abs: GELU_ABS, rel: GELU_REL, scale };
}

Deno.test({
  name: "elementwise kernels match float64 references",
  ...gpuTest,
  fn: async (t) => {
    const rt = await testRuntime();

    await t.step("add, with and without scale, on odd lengths and offset views", async () => {
      for (const n of LENGTHS) {
        const a = randomF32(n, n, -4, 4);
        const b = randomF32(n, n + 1, -4, 4);
        for (const s of [1, -0.3]) {
          const sf = Math.fround(s);
          const out = offsetTensor(rt, new Float32Array(n));
          await add(rt, offsetTensor(rt, a), rt.tensor(b), out, { scale: s });
          const scaleOf = Float64Array.from(magnitudes(a, b), (m) => Math.abs(sf) * m);
          assertClose(
            await rt.readOne(out),
            ref.add(a, b, sf),
            { rel: 2.5 * U, scale: scaleOf },
            `add n=${n} s=${s}`,
          );
        }
      }
    });

    await t.step("add in place (out is a) with a scale", async () => {
      const a = randomF32(257, 11, -2, 2);
      const b = randomF32(257, 12, -2, 2);
      const at = rt.tensor(a);
      await add(rt, at, rt.tensor(b), at, { scale: 0.5 });
      assertClose(await rt.readOne(at), ref.add(a, b, 0.5), {
        rel: 2.5 * U,
        scale: magnitudes(a, b),
      }, "add in place");
    });

    await t.step("scale out of place and in place", async () => {
      for (const n of LENGTHS) {
        const x = randomF32(n, 3 * n, -10, 10);
        const s = Math.fround(1.7);
        const out = rt.zeros([n]);
        await scale(rt, offsetTensor(rt, x), s, out);
        assertClose(await rt.readOne(out), ref.scale(x, s), { rel: U }, `scale n=${n}`);
        const inPlace = offsetTensor(rt, x);
        await scale(rt, inPlace, s, inPlace);
        assertClose(
          await rt.readOne(inPlace),
          ref.scale(x, s),
          { rel: U },
          `scale in place n=${n}`,
        );
      }
    });

    await t.step("axpy", async () => {
      for (const n of LENGTHS) {
        const x = randomF32(n, 5 * n, -3, 3);
        const y = randomF32(n, 5 * n + 1, -3, 3);
        const alpha = Math.fround(-2.3);
        const yt = offsetTensor(rt, y);
        await axpy(rt, alpha, rt.tensor(x), yt);
        const scaleOf = Float64Array.from(x, (v, i) => Math.abs(alpha * v) + Math.abs(y[i]));
        assertClose(
          await rt.readOne(yt),
          ref.axpy(alpha, x, y),
          { rel: 2.5 * U, scale: scaleOf },
          `axpy n=${n}`,
        );
      }
    });

    await t.step("add past 65535 workgroups uses the folded grid", async () => {
      const n = 65535 * 64 + 123;
      const a = randomF32(n, 21);
      const b = randomF32(n, 22);
      const out = rt.zeros([n]);
      await add(rt, rt.tensor(a), rt.tensor(b), out);
      const got = await rt.readOne(out);
      assertClose(got, ref.add(a, b), { rel: 2.5 * U, scale: magnitudes(a, b) }, "add n>65535·64");
      out.dispose();
    });

    await t.step("gelu forward, out of place and in place", async () => {
      for (const n of LENGTHS) {
        const x = randomF32(n, 7 * n, -8, 8);
        const out = rt.zeros([n]);
        await gelu(rt, offsetTensor(rt, x), out);
        assertClose(await rt.readOne(out), ref.geluArray(x), geluTolerance(x), `gelu n=${n}`);
        const inPlace = offsetTensor(rt, x);
        await gelu(rt, inPlace, inPlace);
        assertClose(
          await rt.readOne(inPlace),
          ref.geluArray(x),
          geluTolerance(x),
          `gelu in place n=${n}`,
        );
      }
    });

    await t.step("gelu backward, out of place and in place into dy", async () => {
      for (const n of LENGTHS) {
        const x = randomF32(n, 9 * n, -8, 8);
        const dy = randomF32(n, 9 * n + 1, -2, 2);
        const dx = rt.zeros([n]);
        await geluBackward(rt, offsetTensor(rt, x), rt.tensor(dy), dx);
        const expected = ref.geluBackward(x, dy);
        assertClose(
          await rt.readOne(dx),
          expected,
          geluGradTolerance(x, dy),
          `gelu backward n=${n}`,
        );
        const dyInPlace = offsetTensor(rt, dy);
        await geluBackward(rt, rt.tensor(x), dyInPlace, dyInPlace);
        assertClose(
          await rt.readOne(dyInPlace),
          expected,
          geluGradTolerance(x, dy),
          `gelu backward in place n=${n}`,
        );
      }
    });

    await t.step("gelu tails stay finite: gelu(x) -> x or 0, gelu' -> 1 or 0", async () => {
      const x = new Float32Array([1e30, -1e30, 1e4, -1e4, 100, -100, 20, -20, 0]);
      const y = rt.zeros([x.length]);
      const g = rt.zeros([x.length]);
      await gelu(rt, rt.tensor(x), y);
      await geluBackward(rt, rt.tensor(x), rt.tensor(new Float32Array(x.length).fill(1)), g);
      const [yv, gv] = await rt.read([y, g]);
      assert.ok([...yv, ...gv].every(Number.isFinite), `non-finite: ${yv} / ${gv}`);
      assertClose(yv, ref.geluArray(x), { rel: 1e-6, abs: 1e-30 }, "gelu tails");
      assertClose(gv, Float64Array.from(x, ref.geluGrad), { rel: 1e-6, abs: 1e-30 }, "gelu' tails");
    });

    await t.step("the reference's sigmoid form equals the literal tanh form", () => {
      // Only where the literal form does not cancel (x > -3), to 1e-13 relative.
      for (let x = -3; x <= 30; x += 0.173) {
        assert.ok(Math.abs(ref.gelu(x) - ref.geluLiteral(x)) <= 1e-13 * Math.max(1, Math.abs(x)));
      }
    });

    await t.step("the reference derivative agrees with central differences (float64)", () => {
      const h = 1e-5;
      for (let x = -6; x <= 6; x += 0.37) {
        const fd = (ref.gelu(x + h) - ref.gelu(x - h)) / (2 * h);
        assert.ok(Math.abs(fd - ref.geluGrad(x)) < 1e-9, `x=${x}: fd ${fd} vs ${ref.geluGrad(x)}`);
      }
    });

    await t.step("gpu gelu backward agrees with central differences of gpu gelu", async () => {
      // x and x ± h on a 2^-7 grid, so all three are exact in f32.
      const h = 2 ** -7;
      const x = Float32Array.from({ length: 257 }, (_, i) => (i - 128) * 2 ** -4);
      const plus = rt.zeros([x.length]);
      const minus = rt.zeros([x.length]);
      const grad = rt.zeros([x.length]);
      await gelu(rt, rt.tensor(x.map((v) => v + h)), plus);
      await gelu(rt, rt.tensor(x.map((v) => v - h)), minus);
      await geluBackward(rt, rt.tensor(x), rt.tensor(new Float32Array(x.length).fill(1)), grad);
      const [p, m, g] = await rt.read([plus, minus, grad]);
      const fd = Float64Array.from(p, (v, i) => (v - m[i]) / (2 * h));
      // Truncation h²/6·|gelu'''| <= 1e-5 plus f32 rounding of gelu (|x| <= 8) over 2h: ~1e-4.
      assertClose(g, fd, { abs: 3e-4 }, "gelu' vs finite differences");
    });

    await t.step(
      "the reference's gelu'' agrees with central differences of gelu' (float64)",
      () => {
        const h = 1e-5;
        for (let x = -9; x <= 9; x += 0.37) {
          const fd = (ref.geluGrad(x + h) - ref.geluGrad(x - h)) / (2 * h);
          const exact = ref.geluGrad2(x);
          assert.ok(Math.abs(fd - exact) < 1e-9, `x=${x}: fd ${fd} vs ${exact}`);
        }
        // At 0, gelu = x/2 + √(2/π)·x²/2 + O(x⁴): gelu''(0) = √(2/π).
        assert.ok(Math.abs(ref.geluGrad2(0) - Math.sqrt(2 / Math.PI)) < 1e-15);
      },
    );

    await t.step("gelu backward tangent on odd lengths at offsets", async () => {
      for (const n of LENGTHS) {
        const x = randomF32(n, 13 * n, -8, 8);
        const [xDot, dy, dyDot] = [1, 2, 3].map((k) => randomF32(n, 13 * n + k, -2, 2));
        const out = offsetTensor(rt, new Float32Array(n));
        await geluBackwardTangent(
          rt,
          offsetTensor(rt, x),
          offsetTensor(rt, xDot),
          offsetTensor(rt, dy),
          offsetTensor(rt, dyDot),
          out,
        );
        // Each term's error scale (see geluGradErrorScale), weighted by its factors.
        const scaleOf = Float64Array.from(
          x,
          (v, i) =>
            Math.abs(xDot[i] * dy[i]) * ref.geluGrad2ErrorScale(v) +
            Math.abs(dyDot[i]) * ref.geluGradErrorScale(v),
        );
        assertClose(
          await rt.readOne(out),
          ref.geluBackwardTangent(x, xDot, dy, dyDot),
          { abs: GELU_ABS, rel: GELU_REL, scale: scaleOf },
          `gelu backward tangent n=${n}`,
        );
      }
    });

    await t.step("gpu gelu'' agrees with central differences of gpu gelu'", async () => {
      // As for gelu' above: x and x ± h exact in f32; ẋ = dy = 1 and ḋy = 0 leave gelu''(x).
      const h = 2 ** -7;
      const x = Float32Array.from({ length: 257 }, (_, i) => (i - 128) * 2 ** -4);
      const ones = rt.tensor(new Float32Array(x.length).fill(1));
      const [plus, minus, grad2] = [0, 1, 2].map(() => rt.zeros([x.length]));
      await geluBackward(rt, rt.tensor(x.map((v) => v + h)), ones, plus);
      await geluBackward(rt, rt.tensor(x.map((v) => v - h)), ones, minus);
      await geluBackwardTangent(rt, rt.tensor(x), ones, ones, rt.zeros([x.length]), grad2);
      const [p, m, g] = await rt.read([plus, minus, grad2]);
      const fd = Float64Array.from(p, (v, i) => (v - m[i]) / (2 * h));
      // Truncation h²/6·|gelu''''| <= 2e-5 plus f32 rounding of gelu' over 2h: ~1e-4.
      assertClose(g, fd, { abs: 3e-4 }, "gelu'' vs finite differences");
    });

    await t.step("bad shapes and aliasing are RangeErrors naming the shapes", async () => {
      const a = rt.zeros([3, 4]);
      await assert.rejects(
        add(rt, a, rt.zeros([4, 3]), rt.zeros([3, 4])),
        (e: Error) =>
          e instanceof RangeError && e.message.includes("[4, 3]") && e.message.includes("[3, 4]"),
      );
      await assert.rejects(scale(rt, a.transposeView(), 2, rt.zeros([4, 3])), RangeError);
      await assert.rejects(gelu(rt, a, rt.zeros([4, 3]).transposeView()), /not contiguous/);
      const pair = rt.zeros([2, 5]);
      await assert.rejects(scale(rt, pair.select(0), 2, pair.select(1)), /shares a GPU buffer/);
      await assert.rejects(
        geluBackward(rt, pair.select(0), rt.zeros([5]), pair.select(0)),
        RangeError,
      );
      const five = () => rt.zeros([5]);
      await assert.rejects(
        geluBackwardTangent(rt, five(), pair.select(0), five(), five(), pair.select(1)),
        /shares a GPU buffer/,
      );
      await assert.rejects(
        geluBackwardTangent(rt, five(), five(), five(), rt.zeros([6]), five()),
        RangeError,
      );
    });
  },
});
