// The CPU attention port's WebAssembly causal softmax (src/gpt2/host/wasm/softmax.wat) against
// the float64 formula: random scores on odd shapes with padding (T < Tp), masked keys (-∞), a
// row with no visible key, and scores far apart (exponentials that underflow to 0).
import assert from "node:assert/strict";
import { headSoftmax } from "../../src/gpt2/host/wasm/softmax.ts";
import { softmaxRows } from "../../src/gpt2/host/attention.ts";
import { SOFTMAX_WASM_BASE64 } from "../../src/gpt2/host/wasm/softmax_wasm.ts";
import { assertGeneratedWasmCurrent } from "../helpers/wasm.ts";
import { seededUniform } from "../../src/random.ts";

const LOWEST = -3.4028234663852886e38;

/** Row t of the float64 softmax over keys 0 .. t of scores·scale. */
function expected(scores: Float64Array, t: number, Tp: number, scale: number): number[] {
  const x = Array.from({ length: t + 1 }, (_, s) => scores[t * Tp + s] * scale);
  const m = Math.max(LOWEST, ...x.filter((v) => v !== -Infinity));
  const e = x.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => (sum > 0 ? v / sum : 0));
}

Deno.test("the WebAssembly causal softmax matches the float64 formula on odd shapes", () => {
  const next = seededUniform(5);
  for (const [T, Tp, spread] of [[1, 4, 3], [5, 8, 3], [7, 8, 40], [13, 16, 2000], [64, 64, 8]]) {
    const simd = headSoftmax(T, Tp);
    assert.ok(simd, "WebAssembly SIMD is available here");
    const scores = Float64Array.from({ length: Tp * Tp }, () => (next() - 0.5) * spread);
    for (let s = 0; s < Math.min(T, 3); s++) scores[Math.min(2, T - 1) * Tp + s] = -Infinity;
    if (T > 4) scores[4 * Tp + 1] = -Infinity;
    simd.scores.set(scores);
    simd.probs.fill(7);
    const scale = 0.37;
    simd.run(scale);
    for (let t = 0; t < T; t++) {
      const want = expected(scores, t, Tp, scale);
      for (let s = 0; s < Tp; s++) {
        const p = s <= t ? want[s] : 0;
        const got: number = simd.scores[t * Tp + s];
        assert.ok(Math.abs(got - p) <= 1e-15, `T=${T} P[${t}, ${s}] = ${got}, expected ${p}`);
        if (s < T) assert.equal(simd.probs[t * T + s], Math.fround(got), `probs[${t}, ${s}]`);
      }
    }
    // Row 2 has every key (0 .. 2) masked: no visible key, all zeros.
    if (T >= 3) { for (let s = 0; s < T; s++) assert.equal(simd.probs[2 * T + s], 0); }
  }
});

Deno.test("the JavaScript fallback computes what the module computes", () => {
  const next = seededUniform(8);
  const [T, Tp, scale] = [11, 12, 0.29];
  const visible = (s: number) => s !== 3 && s !== 4;
  const scores = Float64Array.from({ length: Tp * Tp }, () => (next() - 0.5) * 30);
  const simd = headSoftmax(T, Tp)!;
  simd.scores.set(scores);
  // The port's WebAssembly route: masked keys enter as -∞.
  for (let t = 0; t < T; t++) {
    for (let s = 0; s <= t; s++) if (!visible(s)) simd.scores[t * Tp + s] = -Infinity;
  }
  simd.run(scale);
  const P = Float64Array.from(scores);
  const probs = new Float32Array(T * T).fill(7);
  softmaxRows(P, T, Tp, scale, visible, false, probs, 0, T);
  for (let i = 0; i < T * Tp; i++) {
    assert.ok(Math.abs(P[i] - simd.scores[i]) <= 1e-15, `P[${i}]: ${P[i]} vs ${simd.scores[i]}`);
  }
  for (let i = 0; i < T * T; i++) {
    // Within one float32 ulp: the two float64 values may round either side of a tie.
    assert.ok(Math.abs(probs[i] - simd.probs[i]) <= 1.2e-7 * Math.abs(probs[i]), `probs[${i}]`);
  }
});

Deno.test("the committed softmax_wasm.ts is what build.ts writes from softmax.wat", async () => {
  await assertGeneratedWasmCurrent("softmax", SOFTMAX_WASM_BASE64);
});
