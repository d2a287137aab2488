// The CPU backend's WebAssembly SIMD softmax rows (src/gpt2/host/wasm/, used by the gpt2_attention
// forward port) against the float64 scalar loop they replace (Math.exp, rounded to f32 once), on
// row lengths that are and are not multiples of 4, with masked keys, a -∞ score and a query
// without a visible key; and that the committed softmax_wasm.ts is what build.ts writes.
import assert from "node:assert/strict";
import { softmaxRowsF32, softmaxWasmAvailable } from "../../src/gpt2/host/wasm/softmax.ts";
import { SOFTMAX_WASM_BASE64 } from "../../src/gpt2/host/wasm/softmax_wasm.ts";
import { buildWasm, generatedWasmUrl, renderWasmTs } from "../../src/gpu/host/wasm/build.ts";

const LOWEST = -3.4028234663852886e38;

/** Deterministic uniform floats in [lo, hi). */
function inputs(n: number, seed: number, lo: number, hi: number) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

/** The scalar port's row t: probabilities over keys s ≤ t not in `masked`, 0 past t. */
function referenceRow(scores: Float32Array, at: number, t: number, T: number, masked: Set<number>) {
  let m = LOWEST;
  const e = new Float64Array(t + 1);
  for (let s = 0; s <= t; s++) {
    e[s] = masked.has(s) ? -Infinity : scores[at + s];
    if (e[s] > m) m = e[s];
  }
  let sum = 0;
  for (let s = 0; s <= t; s++) sum += e[s] = Math.exp(e[s] - m);
  const inv = sum > 0 ? 1 / sum : 0;
  const row = new Float32Array(T);
  for (let s = 0; s <= t; s++) row[s] = e[s] * inv;
  return row;
}

Deno.test("the WebAssembly SIMD softmax module instantiates here", () => {
  assert.equal(softmaxWasmAvailable, true);
});

Deno.test("softmax rows match the float64 scalar loop", () => {
  let seed = 1;
  for (const T of [1, 3, 6, 64, 127, 130]) {
    for (const maskedKeys of [[], [0], [1, 4, 70]]) {
      const list = maskedKeys.filter((s) => s < T);
      const masked = new Set(list);
      const pad = 5;
      const data = inputs(pad + T * T + pad, seed++, -30, 30);
      if (T > 3) data[pad + 3 * T + 2] = -Infinity;
      const before = data.slice();
      // A partial head: the last row stays as it is.
      const rows = Math.max(1, T - 1);
      assert.ok(softmaxRowsF32(data, pad, T, rows, Int32Array.from(list), list.length));
      for (let t = 0; t < rows; t++) {
        const want = referenceRow(before, pad + t * T, t, T, masked);
        const got = data.subarray(pad + t * T, pad + t * T + T);
        for (let s = 0; s < T; s++) {
          const err = Math.abs(got[s] - want[s]);
          if (!(err <= 2 ** -23 * want[s])) {
            assert.fail(`T ${T}, masked [${list}], row ${t}, key ${s}: ${got[s]}, want ${want[s]}`);
          }
        }
        if (list[0] === 0 && t === 0) assert.equal(got[0], 0, "no visible key: 0");
      }
      assert.deepEqual(data.subarray(0, pad), before.subarray(0, pad));
      assert.deepEqual(data.subarray(pad + rows * T), before.subarray(pad + rows * T));
    }
  }
});

Deno.test("the committed softmax_wasm.ts is what build.ts writes from softmax.wat", async () => {
  const bytes = await buildWasm("softmax");
  const committed = Uint8Array.from(atob(SOFTMAX_WASM_BASE64), (c) => c.charCodeAt(0));
  assert.deepEqual(committed, bytes, "run `deno task gen:wasm`");
  const text = await Deno.readTextFile(generatedWasmUrl("softmax"));
  assert.equal(text, renderWasmTs("softmax", bytes), "run `deno task gen:wasm`");
});
