// Shared by the CPU ports: how many items a 1-D launch folded into x/y reaches, and reading the
// pipeline's defines. The shaders recover i = gid.x + gid.y·groups.x·WG and skip i ≥ n, so a
// dispatch covers min(n, groups.x·groups.y·WG) items.
import type { HostCall } from "./host_kernel.ts";

/** A numeric define (e.g. WG, TILE); throws when the pipeline key lacks it. */
export function defineNumber(call: HostCall, name: string): number {
  const value = call.defines[name];
  if (typeof value !== "number") {
    throw new Error(`${call.key.shader}: define ${name} must be a number, got ${value}`);
  }
  return value;
}

/** min(n, invocations a 1-D folded launch of `perGroup`-sized workgroups covers). */
export function reach1d(call: HostCall, n: number, perGroup: number): number {
  const [x, y] = call.workgroups;
  return Math.max(0, Math.min(n, x * perGroup * y));
}

/** Items [0, result) that the dispatch reaches, of the `n` the shader accepts (WG-sized groups). */
export function covered(call: HostCall, n: number): number {
  return reach1d(call, n, defineNumber(call, "WG"));
}

/** WGSL's u32(f32): truncation toward zero, saturating (negatives and NaN give 0). */
export function u32OfF32(v: number): number {
  return v > 0 ? Math.min(Math.trunc(v), 0xffffffff) : 0;
}
