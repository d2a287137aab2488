// WebAssembly SIMD GELU for the CPU backend's GELU ports (elementwise_unary/in_place/binary/update
// in src/gpu/host/kernels/): the module in gelu_wasm.ts (generated from gelu.wat by build.ts) is
// instantiated once, synchronously, and owns one linear memory, grown as needed. Each call copies
// its Float32Array subranges in, at most CHUNK elements at a time (x at byte 0, dy after it),
// runs the f32x4 loop over the count rounded up to 4 (the lanes past n compute on whatever is
// there and are never copied out) and copies the result out. Where WebAssembly SIMD is
// unavailable (instantiation throws) the same functions run the float64 scalar formulas of
// ../kernels/gelu.ts instead.
import { gelu, geluGrad } from "../kernels/gelu.ts";
import { GELU_WASM_BASE64 } from "./gelu_wasm.ts";
import { instantiateWasm } from "./instantiate.ts";

/** The GELU ports call these functions from this many elements on (their scalar loops below). */
export const GELU_WASM_MIN = 1024;

/** Elements per pass through the module's memory (4 MiB per operand). */
const CHUNK = 1 << 20;
const PAGE = 65536;

interface GeluExports {
  memory: WebAssembly.Memory;
  gelu_forward(p: number, n: number): void;
  gelu_backward(px: number, pdy: number, n: number): void;
}

const wasm = instantiateWasm<GeluExports>(GELU_WASM_BASE64);
let heap: Float32Array<ArrayBufferLike> = new Float32Array(0);

/** Whether the WebAssembly module runs (false: the scalar fallback). */
export const geluWasmAvailable = wasm !== null;

/** The module's memory as floats, holding at least `floats` of them. */
function heapFor(exports: GeluExports, floats: number): Float32Array<ArrayBufferLike> {
  const bytes = floats * 4;
  const memory = exports.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
  if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
  return heap;
}

/** dst[dstOffset + i] = gelu(src[srcOffset + i]), i in [0, n); dst may be src (same offsets). */
export function geluForwardF32(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  n: number,
): void {
  if (n <= 0) return;
  if (wasm === null) {
    for (let i = 0; i < n; i++) dst[dstOffset + i] = gelu(src[srcOffset + i]);
    return;
  }
  const cap = (Math.min(n, CHUNK) + 3) & ~3;
  const mem = heapFor(wasm, cap);
  for (let done = 0; done < n; done += CHUNK) {
    const m = Math.min(CHUNK, n - done);
    mem.set(src.subarray(srcOffset + done, srcOffset + done + m), 0);
    wasm.gelu_forward(0, (m + 3) & ~3);
    dst.set(mem.subarray(0, m), dstOffset + done);
  }
}

/**
 * out[outOffset + i] = dy[dyOffset + i]·gelu'(x[xOffset + i]), i in [0, n); out may be dy (same
 * offsets).
 */
export function geluBackwardF32(
  x: Float32Array,
  xOffset: number,
  dy: Float32Array,
  dyOffset: number,
  out: Float32Array,
  outOffset: number,
  n: number,
): void {
  if (n <= 0) return;
  if (wasm === null) {
    for (let i = 0; i < n; i++) out[outOffset + i] = dy[dyOffset + i] * geluGrad(x[xOffset + i]);
    return;
  }
  const cap = (Math.min(n, CHUNK) + 3) & ~3;
  const mem = heapFor(wasm, 2 * cap);
  for (let done = 0; done < n; done += CHUNK) {
    const m = Math.min(CHUNK, n - done);
    mem.set(x.subarray(xOffset + done, xOffset + done + m), 0);
    mem.set(dy.subarray(dyOffset + done, dyOffset + done + m), cap);
    wasm.gelu_backward(0, cap * 4, (m + 3) & ~3);
    out.set(mem.subarray(cap, cap + m), outOffset + done);
  }
}
