// The attention kernels (shaders/gpt2_attention.wgsl) against the float64 reference
// (src/gpt2/reference/attention.ts), on odd shapes at non-zero offsets, including a left-padded
// row whose first query sees no key at all.
import assert from "node:assert/strict";
import { assertClose } from "../../src/gpu/reference/compare.ts";
import { randomF32 } from "../../src/gpu/reference/random.ts";
import { attentionBackward, attentionForward } from "../../src/gpt2/kernels/attention.ts";
import {
  attention,
  attentionBackward as attentionBackwardRef,
} from "../../src/gpt2/reference/attention.ts";
import { kernelTest, placed, readView } from "./kernel_harness.ts";

kernelTest("causal attention with padding: forward and backward", async (rt) => {
  const [B, T, H, hs] = [3, 6, 3, 5];
  const d = H * hs;
  const qkv = randomF32(B * T * 3 * d, 9, -2, 2);
  const dy = randomF32(B * T * d, 10);
  // Row 0 full, row 1 left-padded by two (its first two queries see no key), row 2 right-padded.
  const mask = Float32Array.from({ length: B * T }, (_, i) => {
    const b = Math.floor(i / T), t = i % T;
    return (b === 1 && t < 2) || (b === 2 && t >= 4) ? 0 : 1;
  });
  const qkvT = placed(rt, qkv, [B * T, 3 * d], 1);
  const y = placed(rt, new Float32Array(B * T * d).fill(9), [B * T, d], 2);
  const probs = placed(rt, new Float32Array(B * H * T * T).fill(9), [B, H, T, T], 3);
  await attentionForward(rt, { B, T, H, hs }, qkvT, placed(rt, mask, [B * T], 4), y, probs);
  const ref = attention(qkv, mask, B, T, H, hs);
  assertClose(await readView(rt, y), ref.y, { abs: 1e-5 }, "attention output");
  const p = await readView(rt, probs);
  assertClose(p, ref.probs, { abs: 1e-6 }, "attention probabilities");
  // The fully masked query (b = 1, t = 0) has an all-zero row and output.
  for (let h = 0; h < H; h++) assert.equal(p[((1 * H + h) * T + 0) * T], 0);

  const dscores = placed(rt, new Float32Array(B * H * T * T), [B, H, T, T], 5);
  const dqkv = placed(rt, new Float32Array(B * T * 3 * d).fill(9), [B * T, 3 * d], 6);
  await attentionBackward(
    rt,
    { B, T, H, hs },
    qkvT,
    probs,
    placed(rt, dy, [B * T, d], 7),
    dscores,
    dqkv,
  );
  const dRef = attentionBackwardRef(qkv, ref.probs, dy, B, T, H, hs);
  assertClose(await readView(rt, dqkv), dRef, { abs: 2e-5 }, "dqkv");
});
