// CPU port of shaders/simfluence_solver_rows.wgsl: u = X·v for every design row and test example,
// u[r, z] = L[r, z]·Σ_{(i,c)∈row r} c·v_A[i, z] + Σ_{(i,c)∈row r} c·v_B[i, z]. Layout (mP = 4·m4
// padded test examples, fastest axis): csr u32 — rowPtr[rows + 1], then (index, count) pairs from
// entry_base; lprev [rows, mP]; v [2, n, mP] (block 0 = A, 1 = B); scal [SCAL_ROWS, mP]; u
// [rows, mP], written. With skip_inactive, groups of 4 test examples whose ROW_ACTIVE entries are
// all 0 are left untouched. The row sums run in float64. From SOLVER_WASM_MIN lane·entry products
// on, the products run in WebAssembly SIMD instead (./wasm/solver.ts): f32x4, in f32 as the WGSL
// sums, so those results differ from these float64 loops' in the last bits.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";
import { liveRanges } from "./solver_common.ts";
import { SOLVER_WASM_MIN, solverRowsWasm } from "./wasm/solver.ts";

export function solverRows(call: HostCall): void {
  solverRowsUsing(call, SOLVER_WASM_MIN);
}

/** The port, using the WebAssembly module from `wasmMin` lane·entry products on (∞: never). */
export function solverRowsUsing(call: HostCall, wasmMin: number): void {
  const [rows, n, m4, entryBase, skipInactive] = call.u;
  const csr = call.buffers[0].u32;
  const lprev = call.buffers[1].f32;
  const v = call.buffers[2].f32;
  const scal = call.buffers[3].f32;
  const u = call.buffers[4].f32;
  const mP = 4 * m4;
  const ranges = liveRanges(scal, call.defines.ROW_ACTIVE as number, m4, skipInactive !== 0);
  if (ranges.length === 0) return;
  if (
    (csr[rows] - csr[0]) * mP >= wasmMin &&
    solverRowsWasm(call.buffers[0], entryBase, rows, n, mP, lprev, v, u, ranges)
  ) return;
  const blockB = n * mP;
  const sa = new Float64Array(mP);
  const sb = new Float64Array(mP);
  const nr = ranges.length;
  for (let r = 0; r < rows; r++) {
    sa.fill(0);
    sb.fill(0);
    const end = csr[r + 1];
    let e = csr[r];
    // Four entries a pass: a quarter of the accumulators' loads and stores.
    for (; e + 4 <= end; e += 4) {
      const at = entryBase + 2 * e;
      const c0 = csr[at + 1], c1 = csr[at + 3], c2 = csr[at + 5], c3 = csr[at + 7];
      const a0 = csr[at] * mP, a1 = csr[at + 2] * mP, a2 = csr[at + 4] * mP;
      const a3 = csr[at + 6] * mP;
      const b0 = blockB + a0, b1 = blockB + a1, b2 = blockB + a2, b3 = blockB + a3;
      for (let g = 0; g < nr; g += 2) {
        const z1 = ranges[g + 1];
        for (let z = ranges[g]; z < z1; z++) {
          sa[z] += c0 * v[a0 + z] + c1 * v[a1 + z] + c2 * v[a2 + z] + c3 * v[a3 + z];
          sb[z] += c0 * v[b0 + z] + c1 * v[b1 + z] + c2 * v[b2 + z] + c3 * v[b3 + z];
        }
      }
    }
    for (; e < end; e++) {
      const at = entryBase + 2 * e;
      const c = csr[at + 1];
      const ka = csr[at] * mP;
      const kb = blockB + ka;
      for (let g = 0; g < nr; g += 2) {
        const z1 = ranges[g + 1];
        for (let z = ranges[g]; z < z1; z++) {
          sa[z] += c * v[ka + z];
          sb[z] += c * v[kb + z];
        }
      }
    }
    const k = r * mP;
    for (let g = 0; g < nr; g += 2) {
      const z1 = ranges[g + 1];
      for (let z = ranges[g]; z < z1; z++) u[k + z] = lprev[k + z] * sa[z] + sb[z];
    }
  }
}
