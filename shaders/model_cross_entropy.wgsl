// Token cross-entropy fused with the softmax, forward and backward.
// Layout: logits [rows, stride] row-major from logitsOffset, of which the first V columns are the
// vocabulary (the rest is padding: ignored, and 0 in dlogits); targets [rows] (ids as f32) from
// targetsOffset; weights [rows] from weightsOffset; loss [rows] from lossOffset; dlogits
// [rows, stride] from dlogitsOffset.
// `forward`           loss_r = logsumexp(logits_r) - logits_r[target_r] for every row (masking
//                     is the caller's business: it weights the rows it counts).
// `forward_backward`  also dlogits_r = weight_r·(softmax(logits_r) - onehot(target_r)).
// One invocation per row (no barriers: cheap on llvmpipe; rows are many). The max and the sum
// of exponentials are accumulated online in one sweep.
// Grid: 1-D over rows, folded into x/y.

struct Params {
  rows: u32,
  V: u32,
  stride: u32,
  logitsOffset: u32,
  targetsOffset: u32,
  weightsOffset: u32,
  lossOffset: u32,
  dlogitsOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;

const LOWEST: f32 = -3.4028234663852886e38;

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

fn row_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

@group(0) @binding(3) var<storage, read_write> loss_only: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let base = params.logitsOffset + r * params.stride;
  let label = u32(targets[params.targetsOffset + r]);
  loss_only[params.lossOffset + r] = log_sum_exp(base) - logits[base + label];
}

@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(WG)
fn forward_backward(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = row_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let base = params.logitsOffset + r * params.stride;
  let label = u32(targets[params.targetsOffset + r]);
  let lse = log_sum_exp(base);
  loss[params.lossOffset + r] = lse - logits[base + label];
  let w = weights[params.weightsOffset + r];
  let out = params.dlogitsOffset + r * params.stride;
  for (var c = 0u; c < params.V; c++) {
    let p = exp(logits[base + c] - lse);
    dlogits[out + c] = w * (p - select(0.0, 1.0, c == label));
  }
  for (var c = params.V; c < params.stride; c++) {
    dlogits[out + c] = 0.0;
  }
}
