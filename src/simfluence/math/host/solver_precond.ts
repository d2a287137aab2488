// CPU port of shaders/simfluence_solver_precond.wgsl: the inverse of each training index's 2x2
// diagonal block of XᵀX + λI (block-Jacobi preconditioner): aa = Σ c²L² + λ, ab = Σ c²L,
// bb = Σ c² + λ over the rows holding i, minv = (inv_aa, inv_ab, inv_bb); a block the kind does
// not fit is dropped (zeros), as is a block that is not positive definite. Layout (mP = 4·m4,
// test examples fastest): csc u32 — colPtr[n + 1], then (row, count) pairs from entry_base;
// lprev [rows, mP]; scal [SCAL_ROWS, mP] (row 0 = λ); minv [3, n, mP], written. The sums run in
// float64, the inverse is rounded once to f32. A part (src/gpu/host/pool/split.ts) is a range of
// training indices.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";
import { type HostPart, partRange, WHOLE } from "../../../gpu/host/pool/split.ts";

export function solverPrecond(call: HostCall): void {
  solverPrecondPart(call, WHOLE);
}

export function solverPrecondPart(call: HostCall, part: HostPart): void {
  const [n, m4, entryBase, useA, useB] = call.u;
  const csc = call.buffers[0].u32;
  const lprev = call.buffers[1].f32;
  const scal = call.buffers[2].f32;
  const minv = call.buffers[3].f32;
  const mP = 4 * m4;
  const stride = n * mP;
  const aa = new Float64Array(mP);
  const ab = new Float64Array(mP);
  const bb = new Float64Array(mP);
  const [first, last] = partRange(n, part);
  for (let i = first; i < last; i++) {
    for (let z = 0; z < mP; z++) {
      aa[z] = scal[z];
      ab[z] = 0;
      bb[z] = scal[z];
    }
    const end = csc[i + 1];
    for (let e = csc[i]; e < end; e++) {
      const at = entryBase + 2 * e;
      const c = csc[at + 1];
      const c2 = c * c;
      const k = csc[at] * mP;
      for (let z = 0; z < mP; z++) {
        const l = lprev[k + z];
        const c2l = c2 * l;
        aa[z] += c2l * l;
        ab[z] += c2l;
        bb[z] += c2;
      }
    }
    const k = i * mP;
    for (let z = 0; z < mP; z++) {
      let invAa = 0;
      let invAb = 0;
      let invBb = 0;
      if (useA !== 0 && useB !== 0) {
        const det = aa[z] * bb[z] - ab[z] * ab[z];
        if (det > 0) {
          invAa = bb[z] / det;
          invAb = -ab[z] / det;
          invBb = aa[z] / det;
        }
      } else if (useA !== 0) {
        if (aa[z] > 0) invAa = 1 / aa[z];
      } else if (bb[z] > 0) {
        invBb = 1 / bb[z];
      }
      minv[k + z] = invAa;
      minv[stride + k + z] = invAb;
      minv[2 * stride + k + z] = invBb;
    }
  }
}
