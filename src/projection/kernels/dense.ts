// Dense random projection with a hashed sign matrix (shaders/projection_dense.wgsl):
// out[r, :] (+)= x[r, :]·P, P [p, k] with entries ±scale whose signs come from the counter-based
// hash of (seed, base + i, j) (src/projection/hash.ts), never materialised. The sum over p is
// split into chunks whose partial sums land in a scratch buffer, then summed (shaders/projection_dense_sum.wgsl).
import { requireContiguous, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d, MAX_GROUPS_PER_DIM } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { seedKey } from "../hash.ts";

const WG = 64;
/** Rows per workgroup: each hash is shared by RT rows. */
const RT = 8;
/** Workgroups the partial pass aims for (enough to fill a GPU; more chunks cost scratch). */
const TARGET_GROUPS = 512;
const MIN_CHUNK = 256;

export interface HashProjectOptions {
  seed: number;
  /** |P[i, j]|: 1/√k for a Johnson–Lindenstrauss projection to k dimensions. */
  scale: number;
  /** Global index of x's column 0 (a piece of a longer vector). Default 0. */
  base?: number;
  /** Add to out instead of overwriting it. */
  accumulate?: boolean;
}

/** The chunking of p for `rows` × `k` outputs within `capacity` scratch elements. */
export function chunking(rows: number, p: number, k: number, capacity: number) {
  const groups = Math.ceil(k / WG) * Math.ceil(rows / RT);
  const most = Math.max(1, Math.min(Math.ceil(p / MIN_CHUNK), Math.floor(capacity / (rows * k))));
  const wanted = Math.max(1, Math.min(most, Math.ceil(TARGET_GROUPS / groups)));
  const chunk = Math.ceil(p / wanted / WG) * WG;
  return { chunk, chunks: Math.max(1, Math.ceil(p / chunk)) };
}

/**
 * out [rows, k] (a view whose rows may be strided, inner stride 1) (+)= x [rows, p] · P.
 * `scratch` holds the partial sums: at least rows·k elements (more lets p split further).
 */
export async function hashProject(
  rt: GpuRuntime,
  x: Tensor,
  out: Tensor,
  scratch: Tensor,
  options: HashProjectOptions,
): Promise<void> {
  requireContiguous("hashProject", { x, scratch });
  const [rows, p] = x.shape;
  const k = out.shape[1];
  if (x.rank !== 2 || out.rank !== 2 || out.shape[0] !== rows || out.strides[1] !== 1) {
    throw new RangeError(`hashProject: x ${shapeText(x)} and out ${shapeText(out)}`);
  }
  if (scratch.size < rows * k) {
    throw new RangeError(`hashProject: scratch of ${scratch.size} < rows·k = ${rows * k}`);
  }
  if (out.buffer === x.buffer || out.buffer === scratch.buffer) {
    throw new RangeError("hashProject: out must not share a buffer with x or scratch");
  }
  const base = options.base ?? 0;
  if (base + p > 0xffffffff) throw new RangeError("hashProject: indices beyond 2^32");
  if (rows === 0 || k === 0) return;
  if (Math.ceil(rows / RT) > MAX_GROUPS_PER_DIM) {
    throw new RangeError(`hashProject: ${rows} rows exceed one launch`);
  }
  const { chunk, chunks } = chunking(rows, p, k, scratch.size);
  const params = {
    u: [
      rows,
      p,
      k,
      x.offset,
      out.offset,
      out.strides[0],
      base,
      seedKey(options.seed),
      chunk,
      chunks,
      options.accumulate ? 1 : 0,
      0,
    ],
    f: [options.scale],
  };
  const defines = { WG, RT };
  await rt.dispatch({
    pipeline: { shader: "projection_dense", entryPoint: "project_partial", defines },
    params,
    bindings: [x, scratch],
    workgroups: [Math.ceil(k / WG), Math.ceil(rows / RT), chunks],
  });
  await rt.dispatch({
    pipeline: { shader: "projection_dense_sum", entryPoint: "sum_partials", defines: { WG } },
    params,
    bindings: [scratch, out],
    workgroups: grid1d(rows * k, WG),
  });
}
