// Scores from rank-k query factors and per-token taps (shaders/influence_lowrank.wgsl): with
// x = s·U and y = a·V per token (matmuls), a pair's score is Σ_t Σ_j x·y and a token's Σ_j x·y.
import { requireContiguous, requireDistinctBuffers, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";

const WG = 64;

export interface LowRankShape {
  /** Queries. */
  Q: number;
  /** Sequences and positions of the training batch. */
  B: number;
  T: number;
  /** Rank kept per query. */
  k: number;
}

function check(
  kernel: string,
  x: Tensor,
  y: Tensor,
  out: Tensor,
  s: LowRankShape,
  outSize: number,
) {
  requireContiguous(kernel, { x, y, out });
  requireDistinctBuffers(kernel, ["out", out], { x, y });
  const want = [s.B * s.T, s.Q * s.k];
  const ok = (t: Tensor) => t.rank === 2 && t.shape[0] === want[0] && t.shape[1] === want[1];
  if (!ok(x) || !ok(y) || out.size !== outSize) {
    throw new RangeError(
      `${kernel}: x ${shapeText(x)}, y ${shapeText(y)}, out ${shapeText(out)} do not fit ` +
        `Q=${s.Q} B=${s.B} T=${s.T} k=${s.k}`,
    );
  }
}

/** out [B, Q] = Σ_t Σ_j x[b·T+t, q·k+j]·y[b·T+t, q·k+j]. */
export async function lowRankPairs(
  rt: GpuRuntime,
  x: Tensor,
  y: Tensor,
  shape: LowRankShape,
  out: Tensor,
): Promise<void> {
  check("lowRankPairs", x, y, out, shape, shape.Q * shape.B);
  const { Q, B, T, k } = shape;
  await rt.dispatch({
    pipeline: { shader: "influence_lowrank", entryPoint: "pairs", defines: { WG } },
    params: { u: [Q, B, T, k, x.offset, y.offset, out.offset] },
    bindings: [x, y, out],
    workgroups: grid1d(Q * B, WG),
  });
}

/** out [Q, B, T] += Σ_j x[b·T+t, q·k+j]·y[b·T+t, q·k+j]. */
export async function lowRankTokens(
  rt: GpuRuntime,
  x: Tensor,
  y: Tensor,
  shape: LowRankShape,
  out: Tensor,
): Promise<void> {
  check("lowRankTokens", x, y, out, shape, shape.Q * shape.B * shape.T);
  const { Q, B, T, k } = shape;
  await rt.dispatch({
    pipeline: { shader: "influence_lowrank", entryPoint: "tokens", defines: { WG } },
    params: { u: [Q, B, T, k, x.offset, y.offset, out.offset] },
    bindings: [x, y, out],
    workgroups: grid1d(Q * B * T, WG),
  });
}
