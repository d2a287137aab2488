// Unary elementwise maps, out-of-place: dst[dstOffset + i] = op(src[srcOffset + i]), i in [0, n).
// Layout: src and dst are flat f32 buffers; each tensor is n contiguous elements from its offset.
// src and dst must be different buffers (a buffer cannot be bound read-only and writable at once;
// elementwise_in_place.wgsl covers the in-place case).
// Entry points: `scale` (op = s·x) and `gelu` (tanh-form GELU).
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  srcOffset: u32,
  dstOffset: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// 0.5·x·(1 + tanh(u)) rewritten as x·sigmoid(2u) with exp of a non-positive argument only, so
// neither tail overflows or cancels.
fn gelu(x: f32) -> f32 {
  let u = GELU_K * (x + GELU_C * x * x * x);
  let t = exp(-2.0 * abs(u));
  let sigmoid2u = select(t, 1.0, u >= 0.0) / (1.0 + t);
  return x * sigmoid2u;
}

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    dst[params.dstOffset + i] = params.s * src[params.srcOffset + i];
  }
}

@compute @workgroup_size(WG)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    // `s` is unused here but keeps one Params layout for the file.
    dst[params.dstOffset + i] = gelu(src[params.srcOffset + i]);
  }
}
