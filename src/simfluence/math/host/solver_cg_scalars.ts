// CPU port of shaders/simfluence_solver_cg_scalars.wgsl: the per-test-example scalar work of the
// Simfluence ridge CG, reducing the chunk partials. The STAGE define picks the step: 0 (start) rz,
// rr, bb, active = rr > tol²·bb, iters = 0; 1 (alpha) α = rz / p·q while active and p·q > 0, else
// α = 0 and inactive; 2 (beta) iters, β = rz'/rz, rz, rr, active = not yet converged; 3 (final)
// relres = sqrt(rr / bb). Layout (mP = 4·m4, test examples fastest): partial [3, chunks, mP];
// scal [SCAL_ROWS, mP] with rows ROW_* (defines). The chunk sums run in float64 and are rounded to
// f32 before the comparisons, as the kernel's f32 sums are what it compares.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";

/** Σ over the chunks of one slot's lane, from element `at` of chunk 0, rounded to f32. */
function reduce(partial: Float32Array, chunks: number, mP: number, at: number): number {
  let acc = 0;
  for (let c = 0; c < chunks; c++, at += mP) acc += partial[at];
  return Math.fround(acc);
}

export function solverCgScalars(call: HostCall): void {
  const [m4, chunks] = call.u;
  const [tolSq] = call.f;
  const [partial, scal] = call.buffers.map((b) => b.f32);
  const d = call.defines as Record<string, number>;
  const stage = d.STAGE;
  const mP = 4 * m4;
  const cm = chunks * mP;
  const rowRz = d.ROW_RZ * mP;
  const rowRr = d.ROW_RR * mP;
  const rowBb = d.ROW_BB * mP;
  const rowActive = d.ROW_ACTIVE * mP;
  const rowIters = d.ROW_ITERS * mP;
  const rowAlpha = d.ROW_ALPHA * mP;
  const rowBeta = d.ROW_BETA * mP;
  const rowRelres = d.ROW_RELRES * mP;
  for (let z = 0; z < mP; z++) {
    if (stage === 0) {
      const rr = reduce(partial, chunks, mP, cm + z);
      const bb = reduce(partial, chunks, mP, 2 * cm + z);
      scal[rowRz + z] = reduce(partial, chunks, mP, z);
      scal[rowRr + z] = rr;
      scal[rowBb + z] = bb;
      scal[rowActive + z] = rr > Math.fround(tolSq * bb) ? 1 : 0;
      scal[rowIters + z] = 0;
    } else if (stage === 1) {
      const pq = reduce(partial, chunks, mP, z);
      const ok = scal[rowActive + z] > 0 && pq > 0;
      scal[rowAlpha + z] = ok ? scal[rowRz + z] / pq : 0;
      scal[rowActive + z] = ok ? 1 : 0;
    } else if (stage === 2) {
      const rzNew = reduce(partial, chunks, mP, z);
      const rr = reduce(partial, chunks, mP, cm + z);
      const live = scal[rowActive + z] > 0;
      const rz = scal[rowRz + z];
      const converged = rr <= Math.fround(tolSq * scal[rowBb + z]);
      const goOn = live && !converged && rz > 0;
      if (live) scal[rowIters + z] += 1;
      scal[rowBeta + z] = goOn ? rzNew / rz : 0;
      if (live) {
        scal[rowRz + z] = rzNew;
        scal[rowRr + z] = rr;
      }
      scal[rowActive + z] = goOn ? 1 : 0;
    } else {
      const rr = reduce(partial, chunks, mP, cm + z);
      const bb = scal[rowBb + z];
      scal[rowRelres + z] = bb > 0 ? Math.sqrt(rr / bb) : 0;
    }
  }
}
