// Materialises a strided view into a contiguous tensor:
//   dst[dstOffset + i] = src[srcOffset + i0·s0 + i1·s1 + i2·s2 + i3·s3]
// where (i0, i1, i2, i3) is the row-major multi-index of i in shape [d0, d1, d2, d3].
// Layout: src is a flat f32 buffer read through the view (element offset, non-negative element
// strides, rank <= 4 after padding with leading size-1 axes); dst is [d0, d1, d2, d3] contiguous.
// d0 is implied by n. src and dst must be different buffers.
// Grid: 1-D over n = d0·d1·d2·d3, folded into x/y because a dimension holds at most 65535
// workgroups.

struct Params {
  n: u32,
  d1: u32,
  d2: u32,
  d3: u32,
  s0: u32,
  s1: u32,
  s2: u32,
  s3: u32,
  srcOffset: u32,
  dstOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.n) {
    return;
  }
  var rest = i;
  let i3 = rest % params.d3;
  rest /= params.d3;
  let i2 = rest % params.d2;
  rest /= params.d2;
  let i1 = rest % params.d1;
  let i0 = rest / params.d1;
  let at = params.srcOffset + i0 * params.s0 + i1 * params.s1 + i2 * params.s2 + i3 * params.s3;
  dst[params.dstOffset + i] = src[at];
}
