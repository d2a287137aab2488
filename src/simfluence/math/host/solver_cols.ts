// CPU port of shaders/simfluence_solver_cols.wgsl: q = mask ⊙ (Xᵀ·u) + add_ridge·λ·p and the
// chunks' partial sums of p·q. For training index i and test example z, over the rows holding i:
// q_A[i, z] = use_a·Σ c·L[r, z]·u[r, z] + ridge·λ_z·p_A[i, z], q_B[i, z] = use_b·Σ c·u[r, z] +
// ridge·λ_z·p_B[i, z]. Layout (mP = 4·m4, test examples fastest): csc u32 — colPtr[n + 1], then
// (row, count) pairs from entry_base; lprev, u [rows, mP]; p, q [2, n, mP]; scal [SCAL_ROWS, mP]
// (row 0 = λ); partial [3, chunks, mP], slot 0 written: Σ_{i in chunk} p·q, chunk c holding
// indices [c·per_chunk, min(n, (c+1)·per_chunk)). With skip_inactive, groups of 4 inactive test
// examples are left untouched. Sums run in float64; p·q uses q as stored (f32). From
// SOLVER_WASM_MIN lane·entry products on, the products run in WebAssembly SIMD
// (./wasm/solver.ts) instead: f32x4, in f32 as the WGSL sums, so those results differ from these
// float64 loops' in the last bits.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";
import { liveRanges } from "./solver_common.ts";
import { SOLVER_WASM_MIN, solverColsWasm } from "./wasm/solver.ts";

export function solverCols(call: HostCall): void {
  solverColsUsing(call, SOLVER_WASM_MIN);
}

/** The port, using the WebAssembly module from `wasmMin` lane·entry products on (∞: never). */
export function solverColsUsing(call: HostCall, wasmMin: number): void {
  const [n, m4, entryBase, perChunk, chunks, useA, useB, addRidge, skipInactive] = call.u;
  const csc = call.buffers[0].u32;
  const lprev = call.buffers[1].f32;
  const u = call.buffers[2].f32;
  const p = call.buffers[3].f32;
  const scal = call.buffers[4].f32;
  const q = call.buffers[5].f32;
  const partial = call.buffers[6].f32;
  const mP = 4 * m4;
  const ranges = liveRanges(scal, call.defines.ROW_ACTIVE as number, m4, skipInactive !== 0);
  if (ranges.length === 0) return;
  const nr = ranges.length;
  const blockB = n * mP;
  const maskA = useA !== 0 ? 1 : 0;
  const maskB = useB !== 0 ? 1 : 0;
  const ridge = new Float64Array(mP);
  if (addRidge !== 0) { for (let z = 0; z < mP; z++) ridge[z] = scal[z]; }
  const groups = Math.min(chunks, call.workgroups[1]);
  if (
    (csc[n] - csc[0]) * mP >= wasmMin &&
    solverColsWasm(
      call.buffers[0],
      entryBase,
      n,
      mP,
      perChunk,
      groups,
      lprev,
      u,
      p,
      q,
      partial,
      ridge,
      maskA,
      maskB,
      ranges,
    )
  ) return;
  const accA = new Float64Array(mP);
  const accB = new Float64Array(mP);
  const pq = new Float64Array(mP);
  for (let chunk = 0; chunk < groups; chunk++) {
    pq.fill(0);
    const first = chunk * perChunk;
    const last = Math.min(first + perChunk, n);
    for (let i = first; i < last; i++) {
      accA.fill(0);
      accB.fill(0);
      const end = csc[i + 1];
      let e = csc[i];
      // Four entries a pass: a quarter of the accumulators' loads and stores.
      for (; e + 4 <= end; e += 4) {
        const at = entryBase + 2 * e;
        const c0 = csc[at + 1], c1 = csc[at + 3], c2 = csc[at + 5], c3 = csc[at + 7];
        const k0 = csc[at] * mP, k1 = csc[at + 2] * mP, k2 = csc[at + 4] * mP;
        const k3 = csc[at + 6] * mP;
        for (let g = 0; g < nr; g += 2) {
          const z1 = ranges[g + 1];
          for (let z = ranges[g]; z < z1; z++) {
            const cu0 = c0 * u[k0 + z], cu1 = c1 * u[k1 + z];
            const cu2 = c2 * u[k2 + z], cu3 = c3 * u[k3 + z];
            accA[z] += cu0 * lprev[k0 + z] + cu1 * lprev[k1 + z] + cu2 * lprev[k2 + z] +
              cu3 * lprev[k3 + z];
            accB[z] += cu0 + cu1 + cu2 + cu3;
          }
        }
      }
      for (; e < end; e++) {
        const at = entryBase + 2 * e;
        const c = csc[at + 1];
        const k = csc[at] * mP;
        for (let g = 0; g < nr; g += 2) {
          const z1 = ranges[g + 1];
          for (let z = ranges[g]; z < z1; z++) {
            const cu = c * u[k + z];
            accA[z] += cu * lprev[k + z];
            accB[z] += cu;
          }
        }
      }
      const ka = i * mP;
      const kb = blockB + ka;
      for (let g = 0; g < nr; g += 2) {
        const z1 = ranges[g + 1];
        for (let z = ranges[g]; z < z1; z++) {
          const pa = p[ka + z];
          const pb = p[kb + z];
          const qa = Math.fround(maskA * accA[z] + ridge[z] * pa);
          const qb = Math.fround(maskB * accB[z] + ridge[z] * pb);
          q[ka + z] = qa;
          q[kb + z] = qb;
          pq[z] += pa * qa + pb * qb;
        }
      }
    }
    const o = chunk * mP;
    for (let g = 0; g < nr; g += 2) {
      const z1 = ranges[g + 1];
      for (let z = ranges[g]; z < z1; z++) partial[o + z] = pq[z];
    }
  }
}
