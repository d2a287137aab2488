// The tangent of GELU's backward (elementwise_binary.wgsl `gelu_backward`, dx = dy·gelu'(x))
// along tangents ẋ of its input and ḋy of its upstream gradient:
//   out = gelu''(x)·ẋ·dy + gelu'(x)·ḋy       (tanh-form GELU).
// Layout: x, xDot, dy, dyDot and out are flat f32 buffers; each tensor is n contiguous elements
// from its offset; out shares a buffer with none of the inputs.
// Entry point: `gelu_backward_tangent`.
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  xOffset: u32,
  xDotOffset: u32,
  dyOffset: u32,
  dyDotOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> xDot: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> dyDot: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// gelu'(v) and gelu''(v) with u = K(v + C v³), S = sigmoid(2u), T = S·(1 - S):
//   gelu'  = S + 2v·u'·T
//   gelu'' = T·(4u' + 2v·u'' - 4v·u'²·tanh(u))
// from t = exp(-2|u|) <= 1 (T = t/(1 + t)², tanh(u) = sign(u)(1 - t)/(1 + t)), so nothing
// overflows; the T terms are dropped once t underflows, as in elementwise_binary.wgsl.
fn gelu_grads(v: f32) -> vec2f {
  let u = GELU_K * (v + GELU_C * v * v * v);
  let t = exp(-2.0 * abs(u));
  let inv = 1.0 / (1.0 + t);
  let sigmoid2u = select(t, 1.0, u >= 0.0) * inv;
  if (t == 0.0) {
    return vec2f(sigmoid2u, 0.0);
  }
  let tail = t * inv * inv;
  let du = GELU_K * (1.0 + 3.0 * GELU_C * v * v);
  let ddu = 6.0 * GELU_K * GELU_C * v;
  let tanhU = sign(u) * (1.0 - t) * inv;
  let grad = sigmoid2u + 2.0 * v * du * t * inv * inv; // as gelu_grad, to the rounding
  let grad2 = tail * (4.0 * du + 2.0 * v * ddu - 4.0 * v * du * du * tanhU);
  return vec2f(grad, grad2);
}

@compute @workgroup_size(WG)
fn gelu_backward_tangent(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    let g = gelu_grads(x[params.xOffset + i]);
    out[params.outOffset + i] = g.y * xDot[params.xDotOffset + i] * dy[params.dyOffset + i] +
      g.x * dyDot[params.dyDotOffset + i];
  }
}
