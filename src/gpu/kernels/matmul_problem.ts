// A matmul request resolved to offsets and strides, shared by the WGSL launcher (matmul.ts) and the
// CPU backend's sgemm (../host/matmul.ts).
import type { Tensor } from "../tensor.ts";

export interface MatmulOptions {
  /** [N], added to every row. */
  bias?: Tensor;
  /** out += alpha · a·b instead of out = alpha · a·b. */
  accumulate?: boolean;
  /** Scales a·b (not the bias or the accumulated out); default 1. */
  alpha?: number;
}

/** A matmul problem resolved to element offsets and strides (the kernels' Params). */
export interface MatmulProblem {
  batch: number;
  M: number;
  N: number;
  K: number;
  a: { off: number; sm: number; sk: number; sb: number };
  b: { off: number; sk: number; sn: number; sb: number };
  outOff: number;
}

const fmt = (t: Tensor) => `[${t.shape.join(", ")}]`;

/** Validates shapes and reads offsets / strides; throws RangeError naming the shapes. */
export function resolveProblem(a: Tensor, b: Tensor, out: Tensor, bias?: Tensor): MatmulProblem {
  const shapes = `a ${fmt(a)}, b ${fmt(b)}, out ${fmt(out)}`;
  for (const [name, t] of [["a", a], ["b", b], ["out", out]] as const) {
    if (t.rank !== 2 && t.rank !== 3) {
      throw new RangeError(`matmul: ${name} must have rank 2 or 3 (${shapes})`);
    }
  }
  const [M, K] = a.shape.slice(-2);
  const [K2, N] = b.shape.slice(-2);
  if (K !== K2) {
    throw new RangeError(`matmul: inner dimensions differ: a ${fmt(a)} · b ${fmt(b)}`);
  }
  const rank = Math.max(a.rank, b.rank);
  const [M2, N2] = out.shape.slice(-2);
  const batch = rank === 3
    ? Math.max(a.rank === 3 ? a.shape[0] : 1, b.rank === 3 ? b.shape[0] : 1)
    : 1;
  if (out.rank !== rank || M2 !== M || N2 !== N || (rank === 3 && out.shape[0] !== batch)) {
    throw new RangeError(
      `matmul: out must have shape [${rank === 3 ? `${batch}, ` : ""}${M}, ${N}] (${shapes})`,
    );
  }
  const batchStride = (t: Tensor, name: string) => {
    if (t.rank === 2) return 0;
    if (t.shape[0] === batch) return batch === 1 ? 0 : t.strides[0];
    if (t.shape[0] === 1) return 0; // broadcast
    throw new RangeError(`matmul: ${name} batch ${t.shape[0]} does not match ${batch} (${shapes})`);
  };
  if (!out.isContiguous) throw new RangeError(`matmul: out must be contiguous (${shapes})`);
  if (out.buffer === a.buffer || out.buffer === b.buffer) {
    throw new RangeError("matmul: out must not share a buffer with a or b");
  }
  if (bias) {
    if (bias.rank !== 1 || bias.shape[0] !== N || !bias.isContiguous) {
      throw new RangeError(
        `matmul: bias must be a contiguous [${N}] (got ${fmt(bias)}; ${shapes})`,
      );
    }
    if (bias.buffer === out.buffer) {
      throw new RangeError("matmul: bias must not share out's buffer");
    }
  }
  const ra = a.rank - 2, rb = b.rank - 2;
  return {
    batch,
    M,
    N,
    K,
    a: { off: a.offset, sm: a.strides[ra], sk: a.strides[ra + 1], sb: batchStride(a, "a") },
    b: { off: b.offset, sk: b.strides[rb], sn: b.strides[rb + 1], sb: batchStride(b, "b") },
    outOff: out.offset,
  };
}
