// CPU port of shaders/projection_kronecker.wgsl (entry point outer_sum): LoGra's per-sequence
// projected gradient from projected taps, phi[b, o·ki + i] = Σ_t sp[b, t, o]·ap[b, t, i].
// Layout: sp [B, T, ko] row-major from spOffset; ap [B, T, ki] row-major from apOffset; phi row b
// at outOffset + b·outStride, ko·ki entries, overwritten (not aliasing sp or ap). Sums run in
// float64, over t in order, as the kernel's.
import type { HostCall } from "../../gpu/host/host_kernel.ts";

export function outerSum(call: HostCall): void {
  const [B, T, ko, ki, spOffset, apOffset, outOffset, outStride] = call.u;
  const sp = call.buffers[0].f32;
  const ap = call.buffers[1].f32;
  const phi = call.buffers[2].f32;
  const per = ko * ki;
  const acc = new Float64Array(per);
  for (let b = 0; b < B; b++) {
    acc.fill(0);
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      const s = spOffset + row * ko;
      const a = apOffset + row * ki;
      for (let o = 0; o < ko; o++) {
        const v = sp[s + o];
        const base = o * ki;
        for (let i = 0; i < ki; i++) acc[base + i] += v * ap[a + i];
      }
    }
    phi.set(acc, outOffset + b * outStride);
  }
}
