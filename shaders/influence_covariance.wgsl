// influence_covariance: the masked, bias-augmented per-token rows whose Gram matrix is a
// Kronecker factor. The launcher (src/influence/kernels/covariance.ts) writes these rows, then
// accumulates C += rowsᵀ·rows with the tuned matmul.
// Layout: x    [rows, cols] row-major from xOffset (a layer's inputs a_t or output gradients
//              s_t, one row per token position b·T + t);
//         mask [rows] from maskOffset: 1 for a real token, 0 for padding;
//         out  [rows, outCols] row-major from outOffset, outCols = cols + 1 when the bias's
//              input (a constant 1) is appended, else cols.
// out[r, c] = mask[r]·x[r, c] (c < cols);  out[r, cols] = mask[r] (appended column).
// Grid: 1-D over rows·outCols, folded into x/y (at most 65535 workgroups a dimension).

struct Params {
  rows: u32,
  cols: u32,
  outCols: u32,
  xOffset: u32,
  maskOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn augment(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.rows * params.outCols) {
    return;
  }
  let r = i / params.outCols;
  let c = i % params.outCols;
  let m = mask[params.maskOffset + r];
  var v = m;
  if (c < params.cols) {
    // select, not a product: a padded row's activations may be anything, even non-finite.
    v = select(0.0, x[params.xOffset + r * params.cols + c], m != 0.0);
  }
  out[params.outOffset + i] = v;
}
