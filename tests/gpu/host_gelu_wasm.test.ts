// The CPU backend's WebAssembly SIMD GELU (src/gpu/host/wasm/) against the float64 formulas of
// src/gpu/host/kernels/gelu.ts, the four GELU ports that use it from GELU_WASM_MIN elements on,
// and that the committed gelu_wasm.ts is what `deno task gen:wasm` writes from gelu.wat.
import assert from "node:assert/strict";
import { gelu, geluGrad } from "../../src/gpu/host/kernels/gelu.ts";
import {
  GELU_WASM_MIN,
  geluBackwardF32,
  geluForwardF32,
  geluWasmAvailable,
} from "../../src/gpu/host/wasm/gelu.ts";
import { GELU_WASM_BASE64 } from "../../src/gpu/host/wasm/gelu_wasm.ts";
import { assertGeneratedWasmCurrent } from "../helpers/wasm.ts";
import { unaryGeluForward } from "../../src/gpu/host/kernels/elementwise_unary.ts";
import { inPlaceGeluForward } from "../../src/gpu/host/kernels/elementwise_in_place.ts";
import { binaryGeluBackward } from "../../src/gpu/host/kernels/elementwise_binary.ts";
import { updateGeluBackwardInPlace } from "../../src/gpu/host/kernels/elementwise_update.ts";
import { HostBuffer } from "../../src/gpu/host/host_buffer.ts";
import type { HostCall } from "../../src/gpu/host/host_kernel.ts";

const LENGTHS = [0, 1, 3, 1023, 1024, 4099];
const SPECIAL = [0, -0, 1e-30, -1e-30, 8, -8, 10, -10, 30, -30, 1e4, -1e4];
// Max abs error allowed vs float64, per unit of max(1, |x|) (times |dy| for the backward).
const TOL = 2e-7;

/** Deterministic uniform floats in [lo, hi), the specials first. */
function inputs(n: number, seed: number, lo: number, hi: number, specials: number[] = []) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = i < specials.length ? specials[i] : lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

function checkForward(x: Float32Array, y: Float32Array, label: string) {
  for (let i = 0; i < x.length; i++) {
    const want = gelu(x[i]);
    const err = Math.abs(y[i] - want);
    if (!(err <= TOL * Math.max(1, Math.abs(x[i])))) {
      assert.fail(`${label}: gelu(${x[i]}) = ${y[i]}, want ${want} (error ${err})`);
    }
  }
}

function checkBackward(x: Float32Array, dy: Float32Array, out: Float32Array, label: string) {
  for (let i = 0; i < x.length; i++) {
    const want = dy[i] * geluGrad(x[i]);
    const err = Math.abs(out[i] - want);
    if (!(err <= TOL * Math.max(1, Math.abs(x[i])) * Math.abs(dy[i]))) {
      assert.fail(`${label}: ${dy[i]}·gelu'(${x[i]}) = ${out[i]}, want ${want} (error ${err})`);
    }
  }
}

Deno.test("the WebAssembly SIMD module instantiates here", () => {
  assert.equal(geluWasmAvailable, true);
});

Deno.test("WASM gelu forward matches float64 gelu on [-20, 20] and special values", () => {
  for (const n of LENGTHS) {
    const x = inputs(n, 17 + n, -20, 20, SPECIAL);
    // Out of place, at offsets, with the guard elements around the output untouched.
    const src = new Float32Array(n + 5);
    src.set(x, 2);
    const dst = new Float32Array(n + 9).fill(7);
    geluForwardF32(src, 2, dst, 4, n);
    checkForward(x, dst.subarray(4, 4 + n), `n=${n}`);
    assert.ok(
      dst.subarray(0, 4).every((v) => v === 7) && dst.subarray(4 + n).every((v) => v === 7),
    );
    // In place.
    const data = new Float32Array(n + 3);
    data.set(x, 3);
    geluForwardF32(data, 3, data, 3, n);
    checkForward(x, data.subarray(3), `n=${n} in place`);
  }
});

Deno.test("WASM gelu backward matches dy·geluGrad in float64 on [-20, 20] and special values", () => {
  for (const n of LENGTHS) {
    const x = inputs(n, 29 + n, -20, 20, SPECIAL);
    const dy = inputs(n, 31 + n, -2, 2, SPECIAL.map(() => 1));
    const xs = new Float32Array(n + 1);
    xs.set(x, 1);
    const dys = new Float32Array(n + 2);
    dys.set(dy, 2);
    const out = new Float32Array(n + 8).fill(7);
    geluBackwardF32(xs, 1, dys, 2, out, 3, n);
    checkBackward(x, dy, out.subarray(3, 3 + n), `n=${n}`);
    assert.ok(
      out.subarray(0, 3).every((v) => v === 7) && out.subarray(3 + n).every((v) => v === 7),
    );
    // In place into dy.
    geluBackwardF32(xs, 1, dys, 2, dys, 2, n);
    checkBackward(x, dy, dys.subarray(2), `n=${n} in place`);
  }
});

Deno.test("WASM gelu past one pass through the module's memory (2^20 elements)", () => {
  const n = (1 << 20) + 4099;
  const x = inputs(n, 3, -20, 20);
  const dy = inputs(n, 4, -2, 2);
  const y = new Float32Array(n + 1);
  geluForwardF32(x, 0, y, 1, n);
  checkForward(x, y.subarray(1), `n=${n}`);
  const g = new Float32Array(n);
  geluBackwardF32(x, 0, dy, 0, g, 0, n);
  checkBackward(x, dy, g, `n=${n}`);
});

Deno.test("WASM gelu keeps NaN and the infinities as float64 does", () => {
  const x = new Float32Array([NaN, Infinity, -Infinity, 3e38, -3e38]);
  const y = new Float32Array(x.length);
  geluForwardF32(x, 0, y, 0, x.length);
  assert.deepEqual([...y], [NaN, Infinity, NaN, Math.fround(3e38), -0]);
  const g = new Float32Array(x.length);
  geluBackwardF32(x, 0, new Float32Array(x.length).fill(1), 0, g, 0, x.length);
  assert.deepEqual([...g], [NaN, 1, 0, 1, 0]);
});

/** A HostCall of a folded 1-D launch (WG 64) reaching `reach` items, over `buffers`. */
function call(u: number[], buffers: HostBuffer[], reach: number): HostCall {
  return {
    key: { shader: "elementwise" } as HostCall["key"],
    defines: { WG: 64 },
    overrides: {},
    buffers,
    u,
    f: [],
    workgroups: [Math.ceil(reach / 64), 1, 1],
  };
}

function buffer(data: Float32Array, offset: number, extra: number): HostBuffer {
  const b = new HostBuffer((offset + data.length + extra) * 4);
  b.f32.fill(5);
  b.f32.set(data, offset);
  return b;
}

Deno.test("GELU ports through WASM keep their offsets and counts", () => {
  // n above GELU_WASM_MIN, and a launch reaching fewer items than n (count = 64·groups).
  for (const [n, reach] of [[GELU_WASM_MIN + 3, GELU_WASM_MIN + 3], [4099, 2048], [1500, 900]]) {
    const count = Math.min(n, Math.ceil(reach / 64) * 64);
    const x = inputs(n, n, -20, 20, SPECIAL);
    const dy = inputs(n, n + 1, -2, 2);
    const label = `n=${n} reach=${reach}`;
    const untouched = (b: HostBuffer, from: number, to: number) =>
      b.f32.subarray(0, from).every((v) => v === 5) && b.f32.subarray(to).every((v) => v === 5);

    const src = buffer(x, 5, 2);
    const dst = buffer(new Float32Array(n).fill(5), 9, 4);
    unaryGeluForward(call([n, 5, 9], [src, dst], reach));
    checkForward(x.subarray(0, count), dst.f32.subarray(9, 9 + count), `unary ${label}`);
    assert.ok(untouched(dst, 9, 9 + count), `unary ${label}: writes outside its range`);

    const data = buffer(x, 6, 3);
    inPlaceGeluForward(call([n, 6], [data], reach));
    checkForward(x.subarray(0, count), data.f32.subarray(6, 6 + count), `in place ${label}`);
    assert.deepEqual(data.f32.subarray(6 + count, 6 + n), x.subarray(count));

    const a = buffer(x, 1, 2);
    const b = buffer(dy, 3, 1);
    const out = buffer(new Float32Array(n).fill(5), 7, 3);
    binaryGeluBackward(call([n, 1, 3, 7], [a, b, out], reach));
    checkBackward(
      x.subarray(0, count),
      dy.subarray(0, count),
      out.f32.subarray(7, 7 + count),
      `binary ${label}`,
    );
    assert.ok(untouched(out, 7, 7 + count), `binary ${label}: writes outside its range`);

    const y = buffer(dy, 2, 2);
    updateGeluBackwardInPlace(call([n, 1, 2], [a, y], reach));
    checkBackward(
      x.subarray(0, count),
      dy.subarray(0, count),
      y.f32.subarray(2, 2 + count),
      `update ${label}`,
    );
    assert.deepEqual(y.f32.subarray(2 + count, 2 + n), dy.subarray(count));
  }
});

Deno.test("the committed gelu_wasm.ts is what build.ts writes from gelu.wat", async () => {
  await assertGeneratedWasmCurrent("gelu", GELU_WASM_BASE64);
});
