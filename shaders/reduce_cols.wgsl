// Column sums over blocks of rows: out[block, c] = sum over r in block of a[r, c], where block
// `k` covers rows [k·ROWS_PER_BLOCK, min((k+1)·ROWS_PER_BLOCK, rows)).
// Layout: a is [rows, cols] row-major from aOffset; out is [blocks, cols] row-major from
// outOffset (blocks = ceil(rows / rowsPerBlock); one block gives the [cols] column sums, more
// blocks give partial sums that a second launch reduces).
// One invocation per (column, block): neighbouring invocations read neighbouring columns.
// Grid: x over columns in groups of WG, y over blocks.

struct Params {
  rows: u32,
  cols: u32,
  rowsPerBlock: u32,
  aOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let block = gid.y;
  if (c >= params.cols) {
    return;
  }
  let first = block * params.rowsPerBlock;
  let last = min(first + params.rowsPerBlock, params.rows);
  var sum = 0.0;
  for (var r = first; r < last; r++) {
    sum += a[params.aOffset + r * params.cols + c];
  }
  out[params.outOffset + block * params.cols + c] = sum;
}
