// influence_correction: EK-FAC's eigenvalue correction (and the diagonal Fisher) accumulated over
// a batch of per-sequence gradients.
// Layout: g      [batch, size] row-major from gOffset: each sequence's gradient matrix, flattened
//                (EK-FAC: rotated into the factors' eigenbases, Q_Sᵀ·DW·Q_A; diagonal: DW itself);
//         lambda [size] from lambdaOffset, accumulated in place.
// lambda[i] += Σ_b g[b, i]²   (divided by the sequence count once all batches are in).
// Grid: 1-D over size, folded into x/y.

struct Params {
  batch: u32,
  size: u32,
  gOffset: u32,
  lambdaOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> lambda: array<f32>;

@compute @workgroup_size(WG)
fn square_accumulate(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.size) {
    return;
  }
  var acc = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    let v = g[params.gOffset + b * params.size + i];
    acc += v * v;
  }
  lambda[params.lambdaOffset + i] += acc;
}
