// projection_kronecker: LoGra's per-sequence projected gradient of one linear layer from its
// projected per-token taps, without forming the gradient matrix DW = Σ_t s_t a_tᵀ:
//   phi[b, o·ki + i] = Σ_t sp[b, t, o] · ap[b, t, i]        (= (P_outᵀ·DW_b·P_in)[o, i])
// with sp = s·P_out [B, T, ko] and ap = [a, 1]·P_in [B, T, ki] (projection_dense), padding rows 0.
// Layout: sp [B, T, ko] row-major from spOffset; ap [B, T, ki] row-major from apOffset;
//         phi: row b at outOffset + b·outStride, ko·ki entries (a column block of the [n, k]
//         projected-gradient matrix), overwritten.
// Grid: 1-D over B·ko·ki, folded into x/y.

struct Params {
  B: u32,
  T: u32,
  ko: u32,
  ki: u32,
  spOffset: u32,
  apOffset: u32,
  outOffset: u32,
  outStride: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> sp: array<f32>;
@group(0) @binding(2) var<storage, read> ap: array<f32>;
@group(0) @binding(3) var<storage, read_write> phi: array<f32>;

@compute @workgroup_size(WG)
fn outer_sum(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let e = gid.x + gid.y * groups.x * WG;
  let per = params.ko * params.ki;
  if (e >= params.B * per) {
    return;
  }
  let b = e / per;
  let oi = e - b * per;
  let o = oi / params.ki;
  let i = oi - o * params.ki;
  var acc = 0.0;
  for (var t = 0u; t < params.T; t++) {
    let row = b * params.T + t;
    acc += sp[params.spOffset + row * params.ko + o] * ap[params.apOffset + row * params.ki + i];
  }
  phi[params.outOffset + b * params.outStride + oi] = acc;
}
