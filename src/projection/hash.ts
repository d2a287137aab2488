// The counter-based hash behind every random projection (shaders/projection_dense.wgsl computes
// the same u32 arithmetic): entry (i, j) of a seeded projection matrix P [p, k] is ±1/√k with the
// sign from the top bit of
//   h(seed, i, j) = fmix(rowKey(seed, i) + colKey(j))      (u32 arithmetic, wrapping)
//   rowKey(seed, i) = fmix(fmix(seed ^ 0x9e3779b9) ^ (i · 0x85ebca77))
//   colKey(j)       = fmix((j + 1) · 0x27d4eb2f)
// with fmix MurmurHash3's 32-bit finaliser. Nothing is materialised: the kernel recomputes each
// sign where it needs it, so a seed gives the same projection on every adapter.

/** MurmurHash3's 32-bit finaliser (a bijection of u32). */
export function fmix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed's key (the kernels take it precomputed). */
export function seedKey(seed: number): number {
  return fmix32((seed ^ 0x9e3779b9) >>> 0);
}

export function rowKey(key: number, i: number): number {
  return fmix32((key ^ Math.imul(i >>> 0, 0x85ebca77)) >>> 0);
}

export function colKey(j: number): number {
  return fmix32(Math.imul((j + 1) >>> 0, 0x27d4eb2f) >>> 0);
}

/** h(seed, i, j) as a u32. */
export function projectionHash(seed: number, i: number, j: number): number {
  return fmix32((rowKey(seedKey(seed), i) + colKey(j)) >>> 0);
}

/** +1 or -1: the sign of P[i, j] (top bit of the hash set: negative). */
export function projectionSign(seed: number, i: number, j: number): 1 | -1 {
  return projectionHash(seed, i, j) >>> 31 ? -1 : 1;
}

/**
 * The seed of one side of one linear layer's Kronecker projection: `module` is the layer's index
 * among all linear layers (4·layer + position in attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj),
 * so a layer is projected the same whichever selection it is part of; side 0 is P_in, 1 is P_out.
 */
export function moduleSeed(seed: number, module: number, side: 0 | 1): number {
  return fmix32((seedKey(seed) + Math.imul(2 * module + side + 1, 0x632be5ab)) >>> 0);
}
