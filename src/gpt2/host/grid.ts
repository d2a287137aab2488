// Shared by the GPT-2 CPU ports: how many items a 1-D launch folded into x/y reaches. The
// shaders recover i = gid.x + gid.y·groups.x·WG and skip i ≥ n, so a dispatch covers
// min(n, groups.x·groups.y·WG) items (WG is the pipeline's define).
import type { HostCall } from "../../gpu/host/host_kernel.ts";

/** Items [0, result) that the dispatch's invocations reach, of the `n` the shader accepts. */
export function covered(call: HostCall, n: number): number {
  const wg = Number(call.defines.WG);
  const [x, y] = call.workgroups;
  return Math.min(n, x * y * wg);
}

/** WGSL's u32(f32): truncation toward zero, saturating (negatives and NaN give 0). */
export function u32OfF32(v: number): number {
  return v > 0 ? Math.min(Math.trunc(v), 0xffffffff) : 0;
}
