// CPU port of shaders/simfluence_solver_cg_start.wgsl: (re)starts preconditioned CG from
// q = (XᵀX + λI)·x0: r = b − q, s = M⁻¹·r (2x2 block-Jacobi inverse), p = s, with the chunks'
// partial sums r·s (slot 0), r·r (slot 1) and b·b (slot 2). Layout (mP = 4·m4, test examples
// fastest): b, q, r, s, p [2, n, mP] (block 0 = A, 1 = B); minv [3, n, mP] (aa, ab, bb); partial
// [3, chunks, mP], chunk c holding indices [c·per_chunk, min(n, (c+1)·per_chunk)). Every test
// example works. r and s are rounded to f32 as stored before the dot products, which run in
// float64.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";

export function solverCgStart(call: HostCall): void {
  const [n, m4, perChunk, chunks] = call.u;
  const [b, q, minv, r, s, p, partial] = call.buffers.map((x) => x.f32);
  const mP = 4 * m4;
  const stride = n * mP;
  const cm = chunks * mP;
  const rs = new Float64Array(mP);
  const rr = new Float64Array(mP);
  const bb = new Float64Array(mP);
  const groups = Math.min(chunks, call.workgroups[1]);
  for (let chunk = 0; chunk < groups; chunk++) {
    rs.fill(0);
    rr.fill(0);
    bb.fill(0);
    const first = chunk * perChunk;
    const last = Math.min(first + perChunk, n);
    for (let i = first; i < last; i++) {
      const ka = i * mP;
      const kb = stride + ka;
      const kc = 2 * stride + ka;
      for (let z = 0; z < mP; z++) {
        const ba = b[ka + z];
        const bbv = b[kb + z];
        const ra = Math.fround(ba - q[ka + z]);
        const rb = Math.fround(bbv - q[kb + z]);
        const mab = minv[kb + z];
        const sa = Math.fround(minv[ka + z] * ra + mab * rb);
        const sb = Math.fround(mab * ra + minv[kc + z] * rb);
        r[ka + z] = ra;
        r[kb + z] = rb;
        s[ka + z] = sa;
        s[kb + z] = sb;
        p[ka + z] = sa;
        p[kb + z] = sb;
        rs[z] += ra * sa + rb * sb;
        rr[z] += ra * ra + rb * rb;
        bb[z] += ba * ba + bbv * bbv;
      }
    }
    const o = chunk * mP;
    partial.set(rs, o);
    partial.set(rr, cm + o);
    partial.set(bb, 2 * cm + o);
  }
}
