// Row softmax or row log-sum-exp over the last axis, numerically stable (the row max is
// subtracted before exponentiating; max and sum are accumulated online in one sweep).
// Layout: x is [rows, cols] row-major from xOffset. The output, from outOffset, is
//   [rows, cols] row-major softmax(x) when LOG_SUM_EXP is false,
//   [rows]       log(sum(exp(x))) per row when LOG_SUM_EXP is true.
// Entry points (the caller picks by shape):
//   `row_per_invocation` one invocation per row; no barriers, good when cols is small.
//   `row_per_workgroup`  one workgroup of WG (a power of two) per row, tree-combined in
//                        workgroup memory; log2(WG) barriers per row.
// Grid: row_per_invocation is 1-D over rows in groups of WG, row_per_workgroup has one group per
// row; both are folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  rows: u32,
  cols: u32,
  xOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// Stands in for -infinity, which WGSL cannot spell; exp(v - LOWEST) never makes a NaN.
const LOWEST: f32 = -3.4028234663852886e38;

// A running (max, sum of exp(v - max)) pair.
struct MaxSum {
  m: f32,
  s: f32,
}

fn push(acc: MaxSum, v: f32) -> MaxSum {
  if (v > acc.m) {
    return MaxSum(v, acc.s * exp(acc.m - v) + 1.0);
  }
  return MaxSum(acc.m, acc.s + exp(v - acc.m));
}

fn merge(p: MaxSum, q: MaxSum) -> MaxSum {
  let m = max(p.m, q.m);
  return MaxSum(m, p.s * exp(p.m - m) + q.s * exp(q.m - m));
}

fn write_row(row: u32, first: u32, stride: u32, acc: MaxSum) {
  if (LOG_SUM_EXP) {
    if (first == 0u) {
      out[params.outOffset + row] = acc.m + log(acc.s);
    }
    return;
  }
  let inv = 1.0 / acc.s;
  let base = row * params.cols;
  for (var c = first; c < params.cols; c += stride) {
    out[params.outOffset + base + c] = exp(x[params.xOffset + base + c] - acc.m) * inv;
  }
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
  let base = params.xOffset + row * params.cols;
  var acc = MaxSum(LOWEST, 0.0);
  for (var c = 0u; c < params.cols; c++) {
    acc = push(acc, x[base + c]);
  }
  write_row(row, 0u, 1u, acc);
}

var<workgroup> partMax: array<f32, WG>;
var<workgroup> partSum: array<f32, WG>;

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
  let base = params.xOffset + row * params.cols;
  var acc = MaxSum(LOWEST, 0.0);
  for (var c = lid; c < params.cols; c += WG) {
    acc = push(acc, x[base + c]);
  }
  partMax[lid] = acc.m;
  partSum[lid] = acc.s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      let merged = merge(MaxSum(partMax[lid], partSum[lid]),
                         MaxSum(partMax[lid + half], partSum[lid + half]));
      partMax[lid] = merged.m;
      partSum[lid] = merged.s;
    }
    workgroupBarrier();
  }
  write_row(row, lid, WG, MaxSum(partMax[0], partSum[0]));
}
