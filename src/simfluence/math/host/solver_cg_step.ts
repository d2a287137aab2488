// CPU port of shaders/simfluence_solver_cg_step.wgsl: one preconditioned-CG update per test
// example with its own step α: x += α·p, r −= α·q, s = M⁻¹·r, and the chunks' partial sums r·s
// (slot 0) and r·r (slot 1). Layout (mP = 4·m4, test examples fastest): scal [SCAL_ROWS, mP]
// (rows ROW_ALPHA, ROW_ACTIVE); p, q, x, r, s [2, n, mP]; minv [3, n, mP] (aa, ab, bb); partial
// [3, chunks, mP]. Groups of 4 test examples whose ROW_ACTIVE entries are all 0 are left
// untouched. r and s are rounded to f32 as stored before the dot products (float64). A part
// (src/gpu/host/pool/split.ts) is a range of chunks.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";
import { type HostPart, partRange, WHOLE } from "../../../gpu/host/pool/split.ts";
import { liveRanges } from "./solver_common.ts";

export function solverCgStep(call: HostCall): void {
  solverCgStepPart(call, WHOLE);
}

export function solverCgStepPart(call: HostCall, part: HostPart): void {
  const [n, m4, perChunk, chunks] = call.u;
  const [scal, p, q, minv, x, r, s, partial] = call.buffers.map((b) => b.f32);
  const mP = 4 * m4;
  const ranges = liveRanges(scal, call.defines.ROW_ACTIVE as number, m4, true);
  if (ranges.length === 0) return;
  const nr = ranges.length;
  const stride = n * mP;
  const cm = chunks * mP;
  const alpha = scal.subarray((call.defines.ROW_ALPHA as number) * mP);
  const rs = new Float64Array(mP);
  const rr = new Float64Array(mP);
  const [c0, c1] = partRange(Math.min(chunks, call.workgroups[1]), part);
  for (let chunk = c0; chunk < c1; chunk++) {
    rs.fill(0);
    rr.fill(0);
    const first = chunk * perChunk;
    const last = Math.min(first + perChunk, n);
    for (let i = first; i < last; i++) {
      const ka = i * mP;
      const kb = stride + ka;
      const kc = 2 * stride + ka;
      for (let g = 0; g < nr; g += 2) {
        const z1 = ranges[g + 1];
        for (let z = ranges[g]; z < z1; z++) {
          const a = alpha[z];
          x[ka + z] += a * p[ka + z];
          x[kb + z] += a * p[kb + z];
          const ra = Math.fround(r[ka + z] - a * q[ka + z]);
          const rb = Math.fround(r[kb + z] - a * q[kb + z]);
          r[ka + z] = ra;
          r[kb + z] = rb;
          const mab = minv[kb + z];
          const sa = Math.fround(minv[ka + z] * ra + mab * rb);
          const sb = Math.fround(mab * ra + minv[kc + z] * rb);
          s[ka + z] = sa;
          s[kb + z] = sb;
          rs[z] += ra * sa + rb * sb;
          rr[z] += ra * ra + rb * rb;
        }
      }
    }
    const o = chunk * mP;
    for (let g = 0; g < nr; g += 2) {
      const z1 = ranges[g + 1];
      for (let z = ranges[g]; z < z1; z++) {
        partial[o + z] = rs[z];
        partial[cm + o + z] = rr[z];
      }
    }
  }
}
