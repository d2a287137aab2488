// Row reductions over the last axis: out[row] = sum_c a[row, c]            (PRODUCT false)
//                                    out[row] = sum_c a[row, c]·b[row, c]  (PRODUCT true)
// Layout: a and b are [rows, cols] row-major from aOffset / bOffset; out is [rows] from
// outOffset. With PRODUCT false b is never read (callers bind a twice) but stays declared so
// both variants share one binding layout.
// Entry points (the caller picks by shape):
//   `row_per_invocation` one invocation per row, sequential sum; no barriers.
//   `row_per_workgroup`  one workgroup of WG (a power of two) per row, strided partial sums
//                        then a tree in workgroup memory; log2(WG) barriers per row.
// Grid: as softmax.wgsl, folded into x/y.

struct Params {
  rows: u32,
  cols: u32,
  aOffset: u32,
  bOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn term(row: u32, c: u32) -> f32 {
  let i = row * params.cols + c;
  var v = a[params.aOffset + i];
  if (PRODUCT) {
    v *= b[params.bOffset + i];
  }
  return v;
}

@compute @workgroup_size(WG)
fn row_per_invocation(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let row = gid.x + gid.y * groups.x * WG;
  if (row >= params.rows) {
    return;
  }
  var sum = 0.0;
  for (var c = 0u; c < params.cols; c++) {
    sum += term(row, c);
  }
  out[params.outOffset + row] = sum;
}

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn row_per_workgroup(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) groups: vec3u,
) {
  // Uniform across the workgroup, so the early return cannot split a barrier.
  let row = wid.x + wid.y * groups.x;
  if (row >= params.rows) {
    return;
  }
  var sum = 0.0;
  for (var c = lid; c < params.cols; c += WG) {
    sum += term(row, c);
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      partial[lid] += partial[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[params.outOffset + row] = partial[0];
  }
}
