// WebAssembly SIMD softmax rows for the CPU port of gpt2_attention's `forward`
// (src/gpt2/host/attention.ts): the module in softmax_wasm.ts (generated from softmax.wat by
// src/gpu/host/wasm/build.ts, `deno task gen:wasm`) is instantiated once, synchronously, and owns
// one linear memory, grown as needed:
// one row of f64 scratch at byte 0, then the head's score rows, `stride` = T rounded up to 4
// floats apart. Each call copies the rows in (one copy when T is a multiple of 4, else one per
// row), marks the masked keys -∞, runs the module and copies the rows back. Where WebAssembly
// SIMD is unavailable (instantiation throws) softmaxRowsF32 returns false and the port runs its
// scalar loop instead.
import { SOFTMAX_WASM_BASE64 } from "./softmax_wasm.ts";

const PAGE = 65536;

interface SoftmaxExports {
  memory: WebAssembly.Memory;
  softmax_rows(p: number, rows: number, stride: number, tmp: number): void;
}

function instantiate(): SoftmaxExports | null {
  try {
    const binary = atob(SOFTMAX_WASM_BASE64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports as unknown as SoftmaxExports;
  } catch {
    return null;
  }
}

const wasm = instantiate();
let heap: Float32Array<ArrayBufferLike> = new Float32Array(0);

/** Whether the WebAssembly module runs (false: the caller's scalar loop). */
export const softmaxWasmAvailable = wasm !== null;

/** The module's memory as floats, holding at least `floats` of them. */
function heapFor(exports: SoftmaxExports, floats: number): Float32Array<ArrayBufferLike> {
  const bytes = floats * 4;
  const memory = exports.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
  if (heap.buffer !== memory.buffer) heap = new Float32Array(memory.buffer);
  return heap;
}

/**
 * Rows t in [0, rows) of the [T, T] block at data[at ..] (row stride T) hold query t's scores
 * over keys s ≤ t; each becomes its softmax over those keys (float64 exponentials and sum, as
 * softmax.wat says), the keys in masked[0 .. maskedCount) (ascending) left out, entries past t 0,
 * a row without a key all 0. Returns false, changing nothing, where the module is unavailable.
 */
export function softmaxRowsF32(
  data: Float32Array,
  at: number,
  T: number,
  rows: number,
  masked: Int32Array,
  maskedCount: number,
): boolean {
  if (wasm === null) return false;
  if (rows <= 0) return true;
  const stride = (T + 3) & ~3;
  // f64 scratch row (2·stride floats), then the rows.
  const base = 2 * stride;
  const mem = heapFor(wasm, base + rows * stride);
  if (stride === T) mem.set(data.subarray(at, at + rows * T), base);
  else {
    for (let t = 0; t < rows; t++) {
      mem.set(data.subarray(at + t * T, at + t * T + T), base + t * stride);
    }
  }
  for (let t = 0; t < rows; t++) {
    const row = base + t * stride;
    for (let i = 0; i < maskedCount; i++) {
      const s = masked[i];
      if (s > t) break;
      mem[row + s] = -Infinity;
    }
  }
  wasm.softmax_rows(base * 4, rows, stride, 0);
  if (stride === T) data.set(mem.subarray(base, base + rows * T), at);
  else {
    for (let t = 0; t < rows; t++) {
      data.set(mem.subarray(base + t * stride, base + t * stride + T), at + t * T);
    }
  }
  return true;
}
