// Causal multi-head self-attention with a key padding mask, forward and backward, fused per
// (example, head, row): on llvmpipe one invocation per row without barriers beats separate
// QKᵀ / softmax / PV launches and the head-split copies they would need.
// HS (a define) is the head size, so that a query's q, output and gradient rows sit in registers.
// Layout: qkv [B, T, 3d] row-major from qkvOffset, q | k | v along the last axis with head h in
// columns h·HS .. h·HS + HS - 1 of each (Hugging Face GPT-2's split); keyMask [B, T] (1 = real
// token); y, dy [B, T, d]; probs, dscores [B, H, T, T] (row t holds keys s; entries for future
// or padded keys are 0). scale = 1/sqrt(HS).
// `forward`        invocation (b, h, t): p_s = softmax_s(scale·q_t·k_s) over visible keys
//                  s <= t with keyMask = 1, y_t = Σ_s p_s v_s, in one sweep (online softmax). A row with no visible key
//                  (a padded first position) gets p = 0 and y_t = 0.
// `backward_query` invocation (b, h, t): dscores_ts = p_ts·(dy_t·v_s - Σ_s' p_ts'·dy_t·v_s')·scale
//                  and dq_t = Σ_s dscores_ts·k_s.
// `backward_key`   invocation (b, h, s), after backward_query: dk_s = Σ_t dscores_ts·q_t and
//                  dv_s = Σ_t p_ts·dy_t over t >= s. Every dqkv element is written (no atomics).
// Grid: 1-D over B·H·T rows, folded into x/y.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  qkvOffset: u32,
  maskOffset: u32,
  yOffset: u32,
  probsOffset: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> key_mask: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> probs_out: array<f32>;

const LOWEST: f32 = -3.4028234663852886e38;

struct Row {
  b: u32,
  h: u32,
  t: u32,
  valid: bool,
}

fn row_of(gid: vec3u, groups: vec3u, B: u32, H: u32, T: u32) -> Row {
  let i = gid.x + gid.y * groups.x * WG;
  return Row(i / (H * T), (i / T) % H, i % T, i < B * H * T);
}

// Where head h's q (part 0), k (1) or v (2) starts at position (b, t), qkv offset excluded.
fn head_at(b: u32, t: u32, part: u32, h: u32, T: u32, H: u32, hs: u32) -> u32 {
  let d = H * hs;
  return (b * T + t) * 3u * d + part * d + h * hs;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let T = params.T;
  let H = params.H;
  let d = H * HS;
  let row = row_of(gid, groups, params.B, H, T);
  if (!row.valid) {
    return;
  }
  let pBase = params.probsOffset + ((row.b * H + row.h) * T + row.t) * T;
  let q0 = params.qkvOffset + head_at(row.b, row.t, 0u, row.h, T, H, HS);
  var q: array<f32, HS>;
  var acc: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    q[j] = qkv[q0 + j];
    acc[j] = 0.0;
  }
  // One sweep with an online softmax: running max m, sum and Σ e·v rescaled when m grows.
  var m = LOWEST;
  var sum = 0.0;
  for (var s = row.t + 1u; s < T; s++) {
    probs_out[pBase + s] = 0.0;
  }
  for (var s = 0u; s <= row.t; s++) {
    var score = 0.0;
    if (key_mask[params.maskOffset + row.b * T + s] != 0.0) {
      let k = params.qkvOffset + head_at(row.b, s, 1u, row.h, T, H, HS);
      for (var j = 0u; j < HS; j++) {
        score += q[j] * qkv[k + j];
      }
      score *= params.scale;
      let mNew = max(m, score);
      let rescale = exp(m - mNew);
      let e = exp(score - mNew);
      sum = sum * rescale + e;
      let v = k + d;
      for (var j = 0u; j < HS; j++) {
        acc[j] = acc[j] * rescale + e * qkv[v + j];
      }
      m = mNew;
    }
    probs_out[pBase + s] = score;
  }
  // No visible key (m never moved): probabilities and output stay 0.
  let inv = select(0.0, 1.0 / sum, sum > 0.0);
  for (var s = 0u; s <= row.t; s++) {
    if (key_mask[params.maskOffset + row.b * T + s] != 0.0) {
      probs_out[pBase + s] = exp(probs_out[pBase + s] - m) * inv;
    }
  }
  let yBase = params.yOffset + (row.b * T + row.t) * d + row.h * HS;
  for (var j = 0u; j < HS; j++) {
    y[yBase + j] = acc[j] * inv;
  }
}

struct BackwardParams {
  B: u32,
  T: u32,
  H: u32,
  qkvOffset: u32,
  probsOffset: u32,
  dyOffset: u32,
  dscoresOffset: u32,
  dqkvOffset: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> bp: BackwardParams;
@group(0) @binding(2) var<storage, read> probs: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dscores_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> dqkv: array<f32>;

@compute @workgroup_size(WG)
fn backward_query(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let T = bp.T;
  let H = bp.H;
  let d = H * HS;
  let row = row_of(gid, groups, bp.B, H, T);
  if (!row.valid) {
    return;
  }
  let head = (row.b * H + row.h) * T + row.t;
  let pBase = bp.probsOffset + head * T;
  let dsBase = bp.dscoresOffset + head * T;
  let dyBase = bp.dyOffset + (row.b * T + row.t) * d + row.h * HS;
  var g: array<f32, HS>;
  var dq: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    g[j] = dy[dyBase + j];
    dq[j] = 0.0;
  }
  var inner = 0.0;
  for (var s = 0u; s <= row.t; s++) {
    let v = bp.qkvOffset + head_at(row.b, s, 2u, row.h, T, H, HS);
    var dp = 0.0;
    for (var j = 0u; j < HS; j++) {
      dp += g[j] * qkv[v + j];
    }
    dscores_out[dsBase + s] = dp;
    inner += probs[pBase + s] * dp;
  }
  for (var s = 0u; s <= row.t; s++) {
    let ds = probs[pBase + s] * (dscores_out[dsBase + s] - inner) * bp.scale;
    dscores_out[dsBase + s] = ds;
    if (ds != 0.0) {
      let k = bp.qkvOffset + head_at(row.b, s, 1u, row.h, T, H, HS);
      for (var j = 0u; j < HS; j++) {
        dq[j] += ds * qkv[k + j];
      }
    }
  }
  for (var s = row.t + 1u; s < T; s++) {
    dscores_out[dsBase + s] = 0.0;
  }
  let dqBase = bp.dqkvOffset + head_at(row.b, row.t, 0u, row.h, T, H, HS);
  for (var j = 0u; j < HS; j++) {
    dqkv[dqBase + j] = dq[j];
  }
}

@group(0) @binding(4) var<storage, read> dscores: array<f32>;

@compute @workgroup_size(WG)
fn backward_key(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let T = bp.T;
  let H = bp.H;
  let d = H * HS;
  let row = row_of(gid, groups, bp.B, H, T);
  if (!row.valid) {
    return;
  }
  let s = row.t;
  let head = (row.b * H + row.h) * T * T;
  var dk: array<f32, HS>;
  var dv: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    dk[j] = 0.0;
    dv[j] = 0.0;
  }
  for (var t = s; t < T; t++) {
    let at = head + t * T + s;
    let ds = dscores[bp.dscoresOffset + at];
    let p = probs[bp.probsOffset + at];
    if (p == 0.0 && ds == 0.0) {
      continue; // masked key or padded query: contributes nothing
    }
    let q = bp.qkvOffset + head_at(row.b, t, 0u, row.h, T, H, HS);
    let g = bp.dyOffset + (row.b * T + t) * d + row.h * HS;
    for (var j = 0u; j < HS; j++) {
      dk[j] += ds * qkv[q + j];
      dv[j] += p * dy[g + j];
    }
  }
  let dkBase = bp.dqkvOffset + head_at(row.b, s, 1u, row.h, T, H, HS);
  for (var j = 0u; j < HS; j++) {
    dqkv[dkBase + j] = dk[j];
    dqkv[dkBase + d + j] = dv[j];
  }
}
