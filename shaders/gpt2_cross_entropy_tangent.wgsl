// The tangent of the token cross-entropy fused with the softmax (gpt2_cross_entropy.wgsl's
// `forward_backward`) along a tangent ż of the logits, for forward-over-reverse.
// Layout: logits and logitsDot [rows, stride] row-major from logitsOffset and logitsDotOffset,
// of which the first V columns are the vocabulary (the rest is padding: ignored, and 0 in
// dlogitsDot); targets [rows] (ids as f32) from targetsOffset; weights [rows] from
// weightsOffset; lossDot [rows] from lossDotOffset; dlogitsDot [rows, stride] from
// dlogitsDotOffset. Whole rows only (no column chunks).
// `forward_backward_tangent`  with p = softmax(logits_r[:V]) and p·ż = Σ_{v<V} p_v·ż_v:
//     lossDot_r    = p·ż - ż[target_r]               (every row, whatever its weight)
//     dlogitsDot_r = weight_r·p⊙(ż - p·ż)           (the tangent of weight_r·(p - onehot))
// One invocation per row, as the primal; sums in column order (deterministic).
// Grid: 1-D over rows, folded into x/y.

struct Params {
  rows: u32,
  V: u32,
  stride: u32,
  logitsOffset: u32,
  logitsDotOffset: u32,
  targetsOffset: u32,
  weightsOffset: u32,
  lossDotOffset: u32,
  dlogitsDotOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> logitsDot: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<f32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> lossDot: array<f32>;
@group(0) @binding(6) var<storage, read_write> dlogitsDot: array<f32>;

const LOWEST: f32 = -3.4028234663852886e38;

// The primal's online sweep (gpt2_cross_entropy.wgsl), so p is the primal's softmax.
fn log_sum_exp(base: u32) -> f32 {
  var m = LOWEST;
  var s = 0.0;
  for (var c = 0u; c < params.V; c++) {
    let v = logits[base + c];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  return m + log(s);
}

@compute @workgroup_size(WG)
fn forward_backward_tangent(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = gid.x + gid.y * groups.x * WG;
  if (r >= params.rows) {
    return;
  }
  let base = params.logitsOffset + r * params.stride;
  let baseDot = params.logitsDotOffset + r * params.stride;
  let lse = log_sum_exp(base);
  var meanDot = 0.0;
  for (var c = 0u; c < params.V; c++) {
    meanDot += exp(logits[base + c] - lse) * logitsDot[baseDot + c];
  }
  let label = u32(targets[params.targetsOffset + r]);
  lossDot[params.lossDotOffset + r] = meanDot - logitsDot[baseDot + label];
  let w = weights[params.weightsOffset + r];
  let out = params.dlogitsDotOffset + r * params.stride;
  for (var c = 0u; c < params.V; c++) {
    let p = exp(logits[base + c] - lse);
    dlogitsDot[out + c] = w * p * (logitsDot[baseDot + c] - meanDot);
  }
  for (var c = params.V; c < params.stride; c++) {
    dlogitsDot[out + c] = 0.0;
  }
}
