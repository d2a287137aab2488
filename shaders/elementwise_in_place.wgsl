// Unary elementwise maps, in place: data[offset + i] = op(data[offset + i]), i in [0, n).
// Layout: data is a flat f32 buffer; the tensor is n contiguous elements from `offset`.
// Entry points: `scale` (op = s·x) and `gelu_forward` (tanh-form GELU).
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  offset: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> data: array<f32>;

const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// Same formula as elementwise_unary.wgsl (WGSL has no includes): x·sigmoid(2u), overflow-free.
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
    data[params.offset + i] = params.s * data[params.offset + i];
  }
}

@compute @workgroup_size(WG)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    data[params.offset + i] = gelu(data[params.offset + i]);
  }
}
