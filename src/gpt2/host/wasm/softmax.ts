// WebAssembly SIMD causal softmax for the CPU attention port (attention.ts): the module in
// softmax_wasm.ts (generated from softmax.wat by src/gpu/host/wasm/build.ts) is instantiated once,
// synchronously. Its memory holds one head's scores (float64 [Tp, Tp], where the port's dgemm
// writes them) and its probabilities (float32 [T, T], copied out by the port). Where WebAssembly
// SIMD is unavailable the port keeps its JavaScript loop.
import { SOFTMAX_WASM_BASE64 } from "./softmax_wasm.ts";
import { instantiateWasm } from "../../../gpu/host/wasm/instantiate.ts";

const PAGE = 65536;

interface SoftmaxExports {
  memory: WebAssembly.Memory;
  softmax_causal(p: number, q: number, T: number, Tp: number, scale: number): void;
}

const wasm = instantiateWasm<SoftmaxExports>(SOFTMAX_WASM_BASE64);

/** One head's scores and probabilities in the module's memory, for T keys padded to Tp. */
export interface HeadSoftmax {
  /** float64 [Tp, Tp]: the scores in, the probabilities out (0 past the diagonal). */
  scores: Float64Array;
  /** float32 [T, T]: the same probabilities, rounded, 0 past the diagonal. */
  probs: Float32Array;
  /** Softmax of every row t < T over keys 0 .. t of `scores`·scale. */
  run(scale: number): void;
}

/** The module's views for this shape (valid until the next call), or null without the module. */
export function headSoftmax(T: number, Tp: number): HeadSoftmax | null {
  if (wasm === null) return null;
  const probsAt = Tp * Tp * 8;
  const bytes = probsAt + T * T * 4;
  const memory = wasm.memory;
  if (memory.buffer.byteLength < bytes) {
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }
  const exports = wasm;
  return {
    scores: new Float64Array(memory.buffer, 0, Tp * Tp),
    probs: new Float32Array(memory.buffer, probsAt, T * T),
    run: (scale) => exports.softmax_causal(0, probsAt, T, Tp, scale),
  };
}
