// Seeded test data for the kernel tests: f32-representable values, so that the float64
// references see exactly the inputs the GPU sees.
import { seededUniform } from "../../random.ts";

/** n f32 values uniform in [lo, hi). */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** n small integers in [lo, hi]: f32 sums of a few thousand of them are exact. */
export function randomInts(n: number, seed: number, lo: number, hi: number): Float32Array {
  const next = seededUniform(seed);
  return Float32Array.from({ length: n }, () => lo + Math.floor((hi - lo + 1) * next()));
}
