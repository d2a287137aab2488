// influence_lowrank: pairwise and per-token scores from rank-k query factors and per-token taps,
// never forming a training sequence's gradient matrix. With a query's preconditioned gradient
// P_q ≈ Σ_j u_j v_jᵀ, its score with sequence b is Σ_t Σ_j (u_jᵀ s_t)(v_jᵀ a_t); the launcher
// computes x = s·U and y = a·V with the tuned matmul, this kernel the sums.
// Layout: x   [B·T, Q·k] row-major from xOffset: x[b·T + t, q·k + j] = u_{q,j}ᵀ s_{b,t};
//         y   [B·T, Q·k] row-major from yOffset: y[b·T + t, q·k + j] = v_{q,j}ᵀ a_{b,t}
//             (padding rows of a are zero, so they add nothing);
//         out `pairs`  [B, Q] row-major from outOffset: Σ_t Σ_j x·y;
//             `tokens` [Q, B, T] row-major from outOffset: Σ_j x·y, added to what is there
//             (token scores sum over modules).
// Grid: `pairs` one invocation per (b, q); `tokens` one per (q, b, t); folded into x/y.

struct Params {
  Q: u32,
  B: u32,
  T: u32,
  k: u32,
  xOffset: u32,
  yOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn token_term(q: u32, row: u32) -> f32 {
  let width = params.Q * params.k;
  let base = row * width + q * params.k;
  var acc = 0.0;
  for (var j = 0u; j < params.k; j++) {
    acc += x[params.xOffset + base + j] * y[params.yOffset + base + j];
  }
  return acc;
}

@compute @workgroup_size(WG)
fn pairs(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.Q * params.B) {
    return;
  }
  let b = i / params.Q;
  let q = i % params.Q;
  var acc = 0.0;
  for (var t = 0u; t < params.T; t++) {
    acc += token_term(q, b * params.T + t);
  }
  out[params.outOffset + i] = acc;
}

@compute @workgroup_size(WG)
fn tokens(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.Q * params.B * params.T) {
    return;
  }
  let q = i / (params.B * params.T);
  let row = i % (params.B * params.T);
  out[params.outOffset + i] += token_term(q, row);
}
