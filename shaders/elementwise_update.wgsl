// In-place elementwise updates of y from x: y[yOffset + i] = op(x[xOffset + i], y[yOffset + i]).
// Layout: x and y are flat f32 buffers; each tensor is n contiguous elements from its offset;
// x and y must be different buffers.
// Entry points:
//   `axpy`                   y = y + s·x
//   `gelu_backward_in_place` y = y·gelu'(x)   (x = GELU input, y = upstream gradient, becomes dx)
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  xOffset: u32,
  yOffset: u32,
  s: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

const GELU_K: f32 = 0.7978845608028654; // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// Same formula as elementwise_binary.wgsl (WGSL has no includes).
fn gelu_grad(v: f32) -> f32 {
  let u = GELU_K * (v + GELU_C * v * v * v);
  let t = exp(-2.0 * abs(u));
  let inv = 1.0 / (1.0 + t);
  let sigmoid2u = select(t, 1.0, u >= 0.0) * inv;
  if (t == 0.0) {
    return sigmoid2u;
  }
  let du = GELU_K * (1.0 + 3.0 * GELU_C * v * v);
  return sigmoid2u + 2.0 * v * du * t * inv * inv;
}

@compute @workgroup_size(WG)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    y[params.yOffset + i] = y[params.yOffset + i] + params.s * x[params.xOffset + i];
  }
}

@compute @workgroup_size(WG)
fn gelu_backward_in_place(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    y[params.yOffset + i] = y[params.yOffset + i] * gelu_grad(x[params.xOffset + i]);
  }
}
