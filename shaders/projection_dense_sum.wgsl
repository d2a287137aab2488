// projection_dense_sum: the second pass of projection_dense, the chunks' partial sums added up:
//   out[r, j] (+)= Σ_c parts[c, r, j]
// Layout: parts [chunks, rows, k] row-major (projection_dense's scratch);
//         out   [rows, k] from outOffset with row stride outStride (a column block of a wider
//               matrix), written (accumulate 0) or added to (accumulate 1).
// Grid: 1-D over rows·k, folded into x/y. Params are projection_dense's.

struct Params {
  rows: u32,
  p: u32,
  k: u32,
  xOffset: u32,
  outOffset: u32,
  outStride: u32,
  base: u32,
  seedKey: u32,
  chunk: u32,
  chunks: u32,
  accumulate: u32,
  pad: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn sum_partials(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let e = gid.x + gid.y * groups.x * WG;
  if (e >= params.rows * params.k) {
    return;
  }
  let r = e / params.k;
  let j = e - r * params.k;
  var acc = 0.0;
  for (var c = 0u; c < params.chunks; c++) {
    acc += parts[(c * params.rows + r) * params.k + j];
  }
  let at = params.outOffset + r * params.outStride + j;
  if (params.accumulate == 1u) {
    out[at] += acc;
  } else {
    out[at] = acc;
  }
}
