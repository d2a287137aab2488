// Shared helpers of the CPU ports in this folder: how many items a dispatch's folded 1-D grid
// reaches (shaders recover i = gid.x + gid.y·groups.x·WG, so i < groups.x·WG·groups.y).
import type { HostCall } from "../host_kernel.ts";

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
