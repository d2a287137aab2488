// The attention tangents: first the float64 reference (src/gpt2/reference/attention_tangent.ts)
// against float64 central differences of the attention references themselves, then the kernels
// (shaders/gpt2_attention_tangent.wgsl) against that reference, on odd shapes at non-zero offsets,
// including a left-padded row whose first query sees no key at all.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { attentionForward } from "../../src/gpt2/kernels/attention.ts";
import {
  attentionTangentBackward,
  attentionTangentForward,
} from "../../src/gpt2/kernels/attention_tangent.ts";
import { attention, attentionBackward } from "../../src/gpt2/reference/attention.ts";
import {
  attentionTangentBackward as attentionTangentBackwardRef,
  attentionTangentForward as attentionTangentForwardRef,
} from "../../src/gpt2/reference/attention_tangent.ts";
import { kernelTest, placed, readView, upload } from "./kernel_harness.ts";

interface Case {
  B: number;
  T: number;
  H: number;
  hs: number;
  mask: Float32Array;
}

function fullMask(B: number, T: number): Float32Array {
  return new Float32Array(B * T).fill(1);
}

/** Row 0 full, row 1 left-padded by two (its first two queries see no key), row 2 right-padded. */
function paddedMask(B: number, T: number): Float32Array {
  return Float32Array.from({ length: B * T }, (_, i) => {
    const b = Math.floor(i / T), t = i % T;
    return (b === 1 && t < 2) || (b === 2 && t >= T - 2) ? 0 : 1;
  });
}

const CASES: Case[] = [
  { B: 2, T: 7, H: 3, hs: 5, mask: fullMask(2, 7) },
  { B: 3, T: 6, H: 2, hs: 3, mask: paddedMask(3, 6) },
  // T = 2: row 1 parks its inner sum in row 0's only slot above the diagonal.
  { B: 1, T: 2, H: 1, hs: 3, mask: fullMask(1, 2) },
];

function along(x: ArrayLike<number>, u: ArrayLike<number>, eps: number): Float64Array {
  return Float64Array.from(x, (v, i) => v + eps * u[i]);
}

// Central differences in float64 with eps = 1e-5: truncation ~eps²·|f'''| and rounding
// ~1e-16/eps, both far below 1e-7 at these magnitudes.
const EPS = 1e-5;
const FD_TOLERANCE = { abs: 1e-7, rel: 1e-7 };

Deno.test("attention tangent reference matches central differences of the forward", () => {
  for (const [n, { B, T, H, hs, mask }] of CASES.entries()) {
    const d = H * hs;
    const qkv = randomF32(B * T * 3 * d, 30 + n, -2, 2);
    const qkvDot = randomF32(B * T * 3 * d, 40 + n);
    const { probs } = attention(qkv, mask, B, T, H, hs);
    const tangent = attentionTangentForwardRef(qkv, qkvDot, mask, probs, B, T, H, hs);
    const plus = attention(along(qkv, qkvDot, EPS), mask, B, T, H, hs);
    const minus = attention(along(qkv, qkvDot, -EPS), mask, B, T, H, hs);
    const fd = (a: Float64Array, b: Float64Array) =>
      Float64Array.from(a, (v, i) => (v - b[i]) / (2 * EPS));
    assertClose(tangent.yDot, fd(plus.y, minus.y), FD_TOLERANCE, `case ${n}: yDot`);
    assertClose(
      tangent.probsDot,
      fd(plus.probs, minus.probs),
      FD_TOLERANCE,
      `case ${n}: probsDot`,
    );
    // The tangent is not trivially zero: the comparison could fail.
    assert.ok(tangent.yDot.some((v) => Math.abs(v) > 0.1));
  }
});

Deno.test("attention tangent reference matches central differences of the backward", () => {
  for (const [n, { B, T, H, hs, mask }] of CASES.entries()) {
    const d = H * hs;
    const qkv = randomF32(B * T * 3 * d, 50 + n, -2, 2);
    const qkvDot = randomF32(B * T * 3 * d, 60 + n);
    const dy = randomF32(B * T * d, 70 + n);
    const dyDot = randomF32(B * T * d, 80 + n);
    const { probs } = attention(qkv, mask, B, T, H, hs);
    const { probsDot } = attentionTangentForwardRef(qkv, qkvDot, mask, probs, B, T, H, hs);
    const tangent = attentionTangentBackwardRef(
      qkv,
      qkvDot,
      probs,
      probsDot,
      dy,
      dyDot,
      B,
      T,
      H,
      hs,
    );
    // The backward as a function of (qkv, dy) alone: its probabilities are recomputed from qkv.
    const backward = (eps: number) => {
      const x = along(qkv, qkvDot, eps);
      return attentionBackward(
        x,
        attention(x, mask, B, T, H, hs).probs,
        along(dy, dyDot, eps),
        B,
        T,
        H,
        hs,
      );
    };
    const plus = backward(EPS);
    const minus = backward(-EPS);
    const fd = Float64Array.from(plus, (v, i) => (v - minus[i]) / (2 * EPS));
    assertClose(tangent, fd, FD_TOLERANCE, `case ${n}: dqkvDot`);
    assert.ok(tangent.some((v) => Math.abs(v) > 0.1));
  }
});

// GPU against the reference, which runs at the GPU's own probabilities so that only the tangents'
// f32 rounding counts. Values are O(1) (qkv in [-2, 2], directions in [-1, 1], |dqkvDot| <= ~2);
// on llvmpipe the worst errors were 2.4e-7 (yDot), 8.5e-8 (probsDot) and 2.2e-7 (dqkvDot), so
// the bounds below leave about 10x for other adapters' rounding (FMA contraction).
for (const [n, { B, T, H, hs, mask }] of CASES.entries()) {
  kernelTest(
    `attention tangents on the GPU, case ${n} (B ${B}, T ${T}, H ${H}, hs ${hs})`,
    async (rt) => {
      const d = H * hs;
      const shape = { B, T, H, hs };
      const qkv = randomF32(B * T * 3 * d, 90 + n, -2, 2);
      const qkvDot = randomF32(B * T * 3 * d, 100 + n);
      const dy = randomF32(B * T * d, 110 + n);
      const dyDot = randomF32(B * T * d, 120 + n);
      const qkvT = placed(rt, qkv, [B * T, 3 * d], 1);
      const qkvDotT = placed(rt, qkvDot, [B * T, 3 * d], 2);
      const maskT = placed(rt, mask, [B * T], 3);
      const y = placed(rt, new Float32Array(B * T * d), [B * T, d], 4);
      const probs = placed(rt, new Float32Array(B * H * T * T), [B, H, T, T], 5);
      await attentionForward(rt, shape, qkvT, maskT, y, probs);
      const p = await readView(rt, probs);

      const yDot = placed(rt, new Float32Array(B * T * d).fill(9), [B * T, d], 6);
      const probsDot = placed(rt, new Float32Array(B * H * T * T).fill(9), [B, H, T, T], 7);
      await attentionTangentForward(rt, shape, qkvT, qkvDotT, maskT, probs, yDot, probsDot);
      const ref = attentionTangentForwardRef(qkv, qkvDot, mask, p, B, T, H, hs);
      assertClose(await readView(rt, yDot), ref.yDot, { abs: 3e-6 }, "yDot");
      const pDot = await readView(rt, probsDot);
      assertClose(pDot, ref.probsDot, { abs: 1e-6 }, "probsDot");
      for (let i = 0; i < pDot.length; i++) {
        if (p[i] === 0) assert.equal(pDot[i], 0, `probsDot[${i}] where probs is 0`);
      }

      const dscoresDot = placed(rt, new Float32Array(B * H * T * T).fill(9), [B, H, T, T], 8);
      const dqkvDot = placed(rt, new Float32Array(B * T * 3 * d).fill(9), [B * T, 3 * d], 9);
      const dyT = placed(rt, dy, [B * T, d], 10);
      const dyDotT = placed(rt, dyDot, [B * T, d], 11);
      await attentionTangentBackward(
        rt,
        shape,
        qkvT,
        qkvDotT,
        probs,
        probsDot,
        dyT,
        dyDotT,
        dscoresDot,
        dqkvDot,
      );
      const dRef = attentionTangentBackwardRef(qkv, qkvDot, p, pDot, dy, dyDot, B, T, H, hs);
      const got = await readView(rt, dqkvDot);
      assertClose(got, dRef, { abs: 3e-6 }, "dqkvDot");
      // Deterministic, and blind to what the scratch and the output held: a second launch over
      // the first's leftovers gives the same bits.
      rt.copy(upload(rt, new Float32Array(dqkvDot.size).fill(7)), dqkvDot);
      await attentionTangentBackward(
        rt,
        shape,
        qkvT,
        qkvDotT,
        probs,
        probsDot,
        dyT,
        dyDotT,
        dscoresDot,
        dqkvDot,
      );
      assert.deepEqual(await readView(rt, dqkvDot), got, "a second launch");
    },
  );
}
