// LoGra's per-sequence Kronecker projection from projected taps (shaders/projection_kronecker.wgsl):
// phi[b, o·ki + i] = Σ_t sp[b, t, o]·ap[b, t, i], i.e. P_outᵀ·DW_b·P_in with DW_b = Σ_t s_t a_tᵀ
// never formed (sp = s·P_out and ap = [a, 1]·P_in come from hashProject).
import { requireContiguous, shapeText } from "../../gpu/kernels/checks.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";

const WG = 64;

/**
 * phi [B, ko·ki] (a view whose rows may be strided, inner stride 1) = Σ_t sp[b,t,:] ⊗ ap[b,t,:]
 * for sp [B, T, ko] and ap [B, T, ki].
 */
export async function kroneckerOuterSum(
  rt: GpuRuntime,
  sp: Tensor,
  ap: Tensor,
  phi: Tensor,
): Promise<void> {
  requireContiguous("kroneckerOuterSum", { sp, ap });
  const [B, T, ko] = sp.shape;
  const ki = ap.shape[2];
  if (
    sp.rank !== 3 || ap.rank !== 3 || ap.shape[0] !== B || ap.shape[1] !== T || phi.rank !== 2 ||
    phi.shape[0] !== B || phi.shape[1] !== ko * ki || phi.strides[1] !== 1
  ) {
    throw new RangeError(
      `kroneckerOuterSum: sp ${shapeText(sp)}, ap ${shapeText(ap)}, phi ${shapeText(phi)}`,
    );
  }
  if (phi.buffer === sp.buffer || phi.buffer === ap.buffer) {
    throw new RangeError("kroneckerOuterSum: phi must not share a buffer with sp or ap");
  }
  if (B * ko * ki === 0) return;
  await rt.dispatch({
    pipeline: { shader: "projection_kronecker", entryPoint: "outer_sum", defines: { WG } },
    params: { u: [B, T, ko, ki, sp.offset, ap.offset, phi.offset, phi.strides[0]] },
    bindings: [sp, ap, phi],
    workgroups: grid1d(B * ko * ki, WG),
  });
}
