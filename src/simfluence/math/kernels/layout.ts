// GPU-side layout helpers for the Simfluence kernels: test examples are the fastest axis and are
// padded to a multiple of 4 so that every kernel moves vec4s (4 test examples per load).

/** Workgroup size of the lane-parallel Simfluence kernels. */
export const SIMFLUENCE_WG = 64;

export function paddedTests(m: number): number {
  return Math.max(4, Math.ceil(m / 4) * 4);
}

/** Copies rows x m (row-major) into rows x mP, zero padded. */
export function padColumns(
  src: ArrayLike<number>,
  rows: number,
  m: number,
  mP: number,
): Float32Array {
  const out = new Float32Array(rows * mP);
  for (let r = 0; r < rows; r++) {
    for (let z = 0; z < m; z++) out[r * mP + z] = src[r * m + z];
  }
  return out;
}

/** Inverse of padColumns. */
export function unpadColumns(src: Float32Array, rows: number, m: number, mP: number): Float32Array {
  if (m === mP) return src.slice(0, rows * m);
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) out.set(src.subarray(r * mP, r * mP + m), r * m);
  return out;
}
