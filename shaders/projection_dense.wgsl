// projection_dense: rows projected by a seeded ±scale matrix that is never materialised,
// out[r, :] = x[r, :]·P with P [p, k], P[i, j] = ±scale, the sign from the counter-based hash of
// (seed, base + i, j) (src/projection/hash.ts computes the same u32 arithmetic).
// Layout: x       [rows, p] row-major from xOffset (row stride p);
//         partial [chunks, rows, k] row-major (scratch): one partial sum per chunk of p;
//         (projection_dense_sum then sums the chunks into out.)
// project_partial grid: x over ceil(k / WG) (one column j per thread), y over ceil(rows / RT)
// (RT rows per workgroup, sharing each hash), z over the chunks of p.

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
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> parts: array<f32>;

fn fmix(v: u32) -> u32 {
  var h = v;
  h = h ^ (h >> 16u);
  h = h * 0x85ebca6bu;
  h = h ^ (h >> 13u);
  h = h * 0xc2b2ae35u;
  return h ^ (h >> 16u);
}

var<workgroup> xs: array<array<f32, WG>, RT>;
var<workgroup> keys: array<u32, WG>;

@compute @workgroup_size(WG)
fn project_partial(
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(workgroup_id) wid: vec3u,
) {
  let lane = lid.x;
  let j = wid.x * WG + lane;
  let r0 = wid.y * RT;
  let c = wid.z;
  let start = c * params.chunk;
  let stop = min(params.p, start + params.chunk);
  let ck = fmix((j + 1u) * 0x27d4eb2fu);
  var acc: array<f32, RT>;
  for (var r = 0u; r < RT; r++) {
    acc[r] = 0.0;
  }
  for (var i0 = start; i0 < stop; i0 += WG) {
    let i = i0 + lane;
    for (var r = 0u; r < RT; r++) {
      var v = 0.0;
      if (i < stop && r0 + r < params.rows) {
        v = x[params.xOffset + (r0 + r) * params.p + i];
      }
      xs[r][lane] = v;
    }
    keys[lane] = fmix(params.seedKey ^ ((params.base + i) * 0x85ebca77u));
    workgroupBarrier();
    let n = min(WG, stop - i0);
    for (var ii = 0u; ii < n; ii++) {
      let h = fmix(keys[ii] + ck);
      let s = select(params.scale, -params.scale, (h >> 31u) == 1u);
      for (var r = 0u; r < RT; r++) {
        acc[r] += s * xs[r][ii];
      }
    }
    workgroupBarrier();
  }
  if (j < params.k) {
    for (var r = 0u; r < RT; r++) {
      if (r0 + r < params.rows) {
        parts[(c * params.rows + r0 + r) * params.k + j] = acc[r];
      }
    }
  }
}
