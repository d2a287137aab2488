// Batched transpose of the last two axes: out[b, c, r] = x[b, r, c].
// Layout: x is [batches, rows, cols] row-major from xOffset; out is [batches, cols, rows]
// row-major from outOffset. Both contiguous.
// Tiled: a TILE×TILE workgroup loads a tile with reads along x's rows and stores it with writes
// along out's rows, through workgroup memory padded by one column against bank conflicts.
// One barrier per tile.
// Grid: x over column tiles, y over row tiles, z over batches [batchBase, batchBase + z).

struct Params {
  rows: u32,
  cols: u32,
  batchBase: u32,
  xOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> tile: array<f32, TILE * (TILE + 1u)>;

@compute @workgroup_size(TILE, TILE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let batch = params.batchBase + wid.z;
  let plane = batch * params.rows * params.cols;
  let r0 = wid.y * TILE;
  let c0 = wid.x * TILE;

  let r = r0 + lid.y;
  let c = c0 + lid.x;
  if (r < params.rows && c < params.cols) {
    tile[lid.y * (TILE + 1u) + lid.x] = x[params.xOffset + plane + r * params.cols + c];
  }
  workgroupBarrier();

  // Swap roles: lid.x now walks the output row (an input row index) for contiguous writes.
  let outRow = c0 + lid.y;
  let outCol = r0 + lid.x;
  if (outRow < params.cols && outCol < params.rows) {
    out[params.outOffset + plane + outRow * params.rows + outCol] =
      tile[lid.x * (TILE + 1u) + lid.y];
  }
}
