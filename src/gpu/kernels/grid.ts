// Launch-grid helpers shared by the kernels.

/** Workgroups per dimension that every adapter supports (the WebGPU default limit). */
export const MAX_GROUPS_PER_DIM = 65535;

/** A 1-D launch over `n` items folded into x/y; shaders recover i = gid.x + gid.y * nx * wg. */
export function grid1d(n: number, workgroupSize: number): [number, number] {
  const groups = Math.ceil(n / workgroupSize);
  if (groups <= MAX_GROUPS_PER_DIM) return [Math.max(groups, 1), 1];
  const y = Math.ceil(groups / MAX_GROUPS_PER_DIM);
  return [Math.ceil(groups / y), y];
}
