// Binary elementwise maps, out-of-place: out[outOffset + i] = op(a[aOffset + i], b[bOffset + i]).
// Layout: a, b and out are flat f32 buffers; each tensor is n contiguous elements from its offset.
// out must not share a buffer with a or b (elementwise_update.wgsl covers in-place updates).
// Entry points:
//   `add`           out = s·(a + b)
//   `gelu_backward` out = b·gelu'(a)   (a = GELU input x, b = upstream gradient dy)
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  aOffset: u32,
  bOffset: u32,
  outOffset: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// d/dx [x·sigmoid(2u)] = sigmoid(2u) + x·2u'(x)·sigmoid(2u)·sigmoid(-2u), u = K(x + C x³),
// evaluated with t = exp(-2|u|) <= 1 so nothing overflows; the second term is dropped once t
// underflows, where x·u' alone could be infinite.
fn gelu_grad(x: f32) -> f32 {
  let u = GELU_K * (x + GELU_C * x * x * x);
  let t = exp(-2.0 * abs(u));
  let inv = 1.0 / (1.0 + t);
  let sigmoid2u = select(t, 1.0, u >= 0.0) * inv;
  if (t == 0.0) {
    return sigmoid2u;
  }
  let du = GELU_K * (1.0 + 3.0 * GELU_C * x * x);
  return sigmoid2u + 2.0 * x * du * t * inv * inv;
}

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    out[params.outOffset + i] = params.s * (a[params.aOffset + i] + b[params.bOffset + i]);
  }
}

@compute @workgroup_size(WG)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    out[params.outOffset + i] = b[params.bOffset + i] * gelu_grad(a[params.aOffset + i]);
  }
}
