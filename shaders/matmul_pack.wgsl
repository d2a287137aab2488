// matmul_pack: copies a strided matrix view into an rgba32float texture for matmul_texture, four
// consecutive columns per texel, zero-padded past the view's edges.
//
// Layouts (z = batch index):
//   src: x[z, r, c] = src[off + z·sb + r·sr + c·sc] for r < rows, c < cols (any strides, so
//        transposed views pack like any other).
//   dst: width ceil(cols/4) texels, height batch·prows (prows >= rows):
//        texel (c4, z·prows + r) = (x[z, r, 4c4], …, x[z, r, 4c4 + 3]), 0 where r >= rows or the
//        column >= cols.
// One invocation per texel. Entry points: `main` for any strides (four scalar loads per texel),
// `main_vec4` when rows are contiguous (sc = 1) and off, sr and sb are multiples of 4 (one vec4
// load; columns past `cols` masked). Grid: x over texel columns (8 per workgroup), y over rows
// (8), z over the batch.

struct Params {
  rows: u32,
  cols: u32,
  prows: u32,
  off: u32,
  sr: u32,
  sc: u32,
  sb: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> src4: array<vec4f>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;

// False past the texture (the invocation then does nothing).
fn in_texture(gid: vec3u) -> bool {
  let p = params;
  return gid.x < (p.cols + 3u) / 4u && gid.y < p.prows;
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  if (!in_texture(gid)) {
    return;
  }
  var v = vec4f(0.0);
  if (gid.y < p.rows) {
    let base = p.off + gid.z * p.sb + gid.y * p.sr;
    for (var i = 0u; i < 4u; i++) {
      let c = 4u * gid.x + i;
      if (c < p.cols) {
        v[i] = src[base + c * p.sc];
      }
    }
  }
  textureStore(dst, gid.xy + vec2u(0u, gid.z * p.prows), v);
}

@compute @workgroup_size(8, 8)
fn main_vec4(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  if (!in_texture(gid)) {
    return;
  }
  var v = vec4f(0.0);
  if (gid.y < p.rows) {
    let base = p.off + gid.z * p.sb + gid.y * p.sr;
    let left = p.cols - 4u * gid.x;
    v = select(vec4f(0.0), src4[base / 4u + gid.x], vec4u(0u, 1u, 2u, 3u) < vec4u(left));
  }
  textureStore(dst, gid.xy + vec2u(0u, gid.z * p.prows), v);
}
