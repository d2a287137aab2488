// CPU port of shaders/projection_dense.wgsl (entry point project_partial): the partial sums of a
// dense projection by a seeded ±scale matrix P [p, k] that is never materialised (P[i, j]'s sign
// is the top bit of fmix(rowKey(seed, base + i) + colKey(j)), src/projection/hash.ts). Layout: x
// [rows, p] row-major from xOffset; parts [chunks, rows, k] row-major from 0 (scratch): parts[c,
// r, j] = Σ_{i in chunk c} x[r, i]·P[i, j], chunk c covering [c·chunk, min(p, (c+1)·chunk)), for
// c below the launch's z count. Sums run in float64; the signs of one row of P are hashed once
// and shared by every row of x, as the kernel shares them across its RT rows.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { colKey, rowKey } from "../hash.ts";

export function projectPartial(call: HostCall): void {
  const [rows, p, k, xOffset, , , base, seedKey, chunk] = call.u;
  const [scale] = call.f;
  const chunks = call.workgroups[2];
  const x = call.buffers[0].f32;
  const parts = call.buffers[1].f32;
  const ck = new Uint32Array(k);
  for (let j = 0; j < k; j++) ck[j] = colKey(j);
  const signs = new Float64Array(k);
  const acc = new Float64Array(rows * k);
  for (let c = 0; c < chunks; c++) {
    const start = c * chunk;
    const stop = Math.min(p, start + chunk);
    acc.fill(0);
    for (let i = start; i < stop; i++) {
      const key = rowKey(seedKey, (base + i) >>> 0);
      for (let j = 0; j < k; j++) {
        // fmix32(key + ck[j]), inlined: only the top bit is needed.
        let h = (key + ck[j]) | 0;
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h ^= h >>> 16;
        signs[j] = h < 0 ? -scale : scale;
      }
      let xi = xOffset + i;
      for (let r = 0; r < rows; r++, xi += p) {
        const v = x[xi];
        if (v === 0) continue;
        const a = r * k;
        for (let j = 0; j < k; j++) acc[a + j] += signs[j] * v;
      }
    }
    parts.set(acc, c * rows * k);
  }
}
