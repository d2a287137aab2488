// CPU port of shaders/simfluence_solver_cg_direction.wgsl: the new CG search direction
// p = s + β·p, β per test example. Layout (mP = 4·m4, test examples fastest): scal
// [SCAL_ROWS, mP] (rows ROW_BETA, ROW_ACTIVE); s, p: `count` vec4s, i.e. count / m4 rows of mP
// ([2, n, mP]). Groups of 4 test examples whose ROW_ACTIVE entries are all 0 are left untouched.
// A part (src/gpu/host/pool/split.ts) is a range of rows.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";
import { type HostPart, partRange, WHOLE } from "../../../gpu/host/pool/split.ts";
import { liveRanges } from "./solver_common.ts";

export function solverCgDirection(call: HostCall): void {
  solverCgDirectionPart(call, WHOLE);
}

export function solverCgDirectionPart(call: HostCall, part: HostPart): void {
  const [count, m4] = call.u;
  const [scal, s, p] = call.buffers.map((b) => b.f32);
  if (m4 === 0) return;
  const mP = 4 * m4;
  const ranges = liveRanges(scal, call.defines.ROW_ACTIVE as number, m4, true);
  if (ranges.length === 0) return;
  const nr = ranges.length;
  const beta = scal.subarray((call.defines.ROW_BETA as number) * mP);
  const rowsFull = Math.floor(count / m4);
  const tail = count - rowsFull * m4; // vec4s of a last, partial row
  const [first, last] = partRange(rowsFull + 1, part);
  for (let row = first; row < last; row++) {
    const limit = row < rowsFull ? mP : 4 * tail;
    if (limit === 0) break;
    const k = row * mP;
    for (let g = 0; g < nr; g += 2) {
      const z1 = Math.min(ranges[g + 1], limit);
      for (let z = ranges[g]; z < z1; z++) p[k + z] = s[k + z] + beta[z] * p[k + z];
    }
  }
}
