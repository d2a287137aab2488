// Shared by the CPU ports of the Simfluence solver shaders (shaders/simfluence_solver_*.wgsl):
// which test examples a dispatch works on. The kernels run one thread per group of 4 test
// examples (a vec4) and a group whose 4 ROW_ACTIVE entries are all 0 may skip its work; the ports
// loop over test examples innermost, so they take the live groups as contiguous lane ranges.
// Layout: scal [SCAL_ROWS, 4·m4] row-major, test examples fastest.

/** [start, end) lane ranges, flattened: the lanes whose groups do the work. */
export function liveRanges(
  scal: Float32Array,
  activeRow: number,
  m4: number,
  skipInactive: boolean,
): number[] {
  const mP = 4 * m4;
  if (!skipInactive) return mP > 0 ? [0, mP] : [];
  const ranges: number[] = [];
  const row = activeRow * mP;
  let open = -1;
  for (let z4 = 0; z4 < m4; z4++) {
    const at = row + 4 * z4;
    const live = scal[at] > 0 || scal[at + 1] > 0 || scal[at + 2] > 0 || scal[at + 3] > 0;
    if (live && open < 0) open = 4 * z4;
    if (!live && open >= 0) {
      ranges.push(open, 4 * z4);
      open = -1;
    }
  }
  if (open >= 0) ranges.push(open, mP);
  return ranges;
}
