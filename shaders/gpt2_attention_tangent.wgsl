// Tangents (forward-mode derivatives) of causal self-attention with a key padding mask
// (shaders/gpt2_attention.wgsl), of its forward and of its backward, for Hessian–vector products
// by forward-over-reverse. Fused per (example, head, row) like the primal; no atomics, and every
// sum runs in a fixed order, so results are deterministic.
// HS (a define) is the head size. A tangent ẋ ("xDot") has its primal x's layout:
// qkv, qkvDot [B, T, 3d] row-major, q | k | v along the last axis with head h in columns
// h·HS .. h·HS + HS - 1 of each; keyMask [B, T] (1 = real token); yDot, dy, dyDot [B, T, d];
// probs, probsDot, dscoresDot [B, H, T, T] (row t holds keys s); dqkvDot [B, T, 3d].
// probs are the primal's (attentionForward); scale = 1/sqrt(HS); s_ts = scale·q_t·k_s.
// `forward`        invocation (b, h, t): ṡ_ts = scale·(q̇_t·k_s + q_t·k̇_s) over visible keys,
//                  ṗ_ts = p_ts·(ṡ_ts − Σ_s' p_ts'·ṡ_ts'), ẏ_t = Σ_s (ṗ_ts·v_s + p_ts·v̇_s).
//                  probsDot is 0 for future or padded keys, and a row with no visible key gets
//                  ṗ = 0 and ẏ = 0 (as its p and y are 0).
// The backward's tangent, of dp_ts = dy_t·v_s, ds_ts = scale·p_ts·(dp_ts − I_t) with
// I_t = Σ_s' p_ts'·dp_ts', dq_t = Σ_s ds_ts·k_s, dk_s = Σ_t ds_ts·q_t, dv_s = Σ_t p_ts·dy_t:
// `backward_query` invocation (b, h, t): ḋp_ts = ḋy_t·v_s + dy_t·v̇_s,
//                  İ_t = Σ_s (ṗ_ts·dp_ts + p_ts·ḋp_ts),
//                  ḋs_ts = scale·(ṗ_ts·(dp_ts − I_t) + p_ts·(ḋp_ts − İ_t)),
//                  ḋq_t = Σ_s (ḋs_ts·k_s + ds_ts·k̇_s). It leaves ḋs_ts in dscoresDot (s <= t)
//                  and I_t, for t >= 1, in the slot just before row t (row t−1, key T−1, above
//                  the diagonal and otherwise unused); other entries above the diagonal are left
//                  as they were (scratch).
// `backward_key`   invocation (b, h, s), after backward_query: ds_ts from dp_ts (recomputed)
//                  and I_t (I_0 = p_00·dp_00 is recomputed: row 0 has no slot),
//                  ḋk_s = Σ_{t>=s} (ḋs_ts·q_t + ds_ts·q̇_t), ḋv_s = Σ_{t>=s} (ṗ_ts·dy_t + p_ts·ḋy_t).
// Every dqkvDot element is written. Grid: 1-D over B·H·T rows, folded into x/y.

struct Params {
  B: u32,
  T: u32,
  H: u32,
  qkvOffset: u32,
  qkvDotOffset: u32,
  maskOffset: u32,
  probsOffset: u32,
  yDotOffset: u32,
  probsDotOffset: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read> qkv_dot: array<f32>;
@group(0) @binding(3) var<storage, read> key_mask: array<f32>;
@group(0) @binding(4) var<storage, read> probs_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> y_dot: array<f32>;
@group(0) @binding(6) var<storage, read_write> probs_dot_out: array<f32>;

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

// Where head h's q (part 0), k (1) or v (2) starts at position (b, t), buffer offset excluded.
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
  let head = (row.b * H + row.h) * T + row.t;
  let pBase = params.probsOffset + head * T;
  let pDotBase = params.probsDotOffset + head * T;
  let qAt = head_at(row.b, row.t, 0u, row.h, T, H, HS);
  var q: array<f32, HS>;
  var qDot: array<f32, HS>;
  var acc: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    q[j] = qkv[params.qkvOffset + qAt + j];
    qDot[j] = qkv_dot[params.qkvDotOffset + qAt + j];
    acc[j] = 0.0;
  }
  // Sweep 1: ṡ (parked in probsDot) and Σ p·ṡ.
  var inner = 0.0;
  for (var s = 0u; s <= row.t; s++) {
    var scoreDot = 0.0;
    if (key_mask[params.maskOffset + row.b * T + s] != 0.0) {
      let k = head_at(row.b, s, 1u, row.h, T, H, HS);
      for (var j = 0u; j < HS; j++) {
        scoreDot += qDot[j] * qkv[params.qkvOffset + k + j] +
          q[j] * qkv_dot[params.qkvDotOffset + k + j];
      }
      scoreDot *= params.scale;
      inner += probs_in[pBase + s] * scoreDot;
    }
    probs_dot_out[pDotBase + s] = scoreDot;
  }
  for (var s = row.t + 1u; s < T; s++) {
    probs_dot_out[pDotBase + s] = 0.0;
  }
  // Sweep 2: ṗ and ẏ. A masked key has p = 0, so ṗ = 0 and it adds nothing.
  for (var s = 0u; s <= row.t; s++) {
    let p = probs_in[pBase + s];
    // select: a masked entry's ṗ is +0, not 0·(−x) = −0.
    let pDot = select(0.0, p * (probs_dot_out[pDotBase + s] - inner), p != 0.0);
    probs_dot_out[pDotBase + s] = pDot;
    if (p != 0.0) {
      let v = head_at(row.b, s, 2u, row.h, T, H, HS);
      for (var j = 0u; j < HS; j++) {
        acc[j] += pDot * qkv[params.qkvOffset + v + j] + p * qkv_dot[params.qkvDotOffset + v + j];
      }
    }
  }
  let yBase = params.yDotOffset + (row.b * T + row.t) * d + row.h * HS;
  for (var j = 0u; j < HS; j++) {
    y_dot[yBase + j] = acc[j];
  }
}

struct BackwardParams {
  B: u32,
  T: u32,
  H: u32,
  qkvOffset: u32,
  qkvDotOffset: u32,
  probsOffset: u32,
  probsDotOffset: u32,
  dyOffset: u32,
  dyDotOffset: u32,
  dscoresDotOffset: u32,
  dqkvDotOffset: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> bp: BackwardParams;
@group(0) @binding(3) var<storage, read> probs: array<f32>;
@group(0) @binding(4) var<storage, read> probs_dot: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read> dy_dot: array<f32>;
@group(0) @binding(7) var<storage, read_write> dscores_dot_out: array<f32>;
@group(0) @binding(8) var<storage, read_write> dqkv_dot: array<f32>;

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
  let pDotBase = bp.probsDotOffset + head * T;
  let dsBase = bp.dscoresDotOffset + head * T;
  let dyAt = (row.b * T + row.t) * d + row.h * HS;
  var g: array<f32, HS>;
  var gDot: array<f32, HS>;
  var dqDot: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    g[j] = dy[bp.dyOffset + dyAt + j];
    gDot[j] = dy_dot[bp.dyDotOffset + dyAt + j];
    dqDot[j] = 0.0;
  }
  // Sweep 1: I and İ; ḋp is parked in dscoresDot, dp is recomputed in sweep 2.
  var inner = 0.0;
  var innerDot = 0.0;
  for (var s = 0u; s <= row.t; s++) {
    let v = head_at(row.b, s, 2u, row.h, T, H, HS);
    var dp = 0.0;
    var dpDot = 0.0;
    for (var j = 0u; j < HS; j++) {
      let vj = qkv[bp.qkvOffset + v + j];
      dp += g[j] * vj;
      dpDot += gDot[j] * vj + g[j] * qkv_dot[bp.qkvDotOffset + v + j];
    }
    dscores_dot_out[dsBase + s] = dpDot;
    let p = probs[pBase + s];
    inner += p * dp;
    innerDot += probs_dot[pDotBase + s] * dp + p * dpDot;
  }
  // Sweep 2: ḋs (left in dscoresDot) and ḋq.
  for (var s = 0u; s <= row.t; s++) {
    let p = probs[pBase + s];
    let pDot = probs_dot[pDotBase + s];
    var dsDot = 0.0;
    if (p != 0.0 || pDot != 0.0) {
      let v = head_at(row.b, s, 2u, row.h, T, H, HS);
      var dp = 0.0;
      for (var j = 0u; j < HS; j++) {
        dp += g[j] * qkv[bp.qkvOffset + v + j];
      }
      let ds = p * (dp - inner) * bp.scale;
      dsDot = (pDot * (dp - inner) + p * (dscores_dot_out[dsBase + s] - innerDot)) * bp.scale;
      let k = head_at(row.b, s, 1u, row.h, T, H, HS);
      for (var j = 0u; j < HS; j++) {
        dqDot[j] += dsDot * qkv[bp.qkvOffset + k + j] + ds * qkv_dot[bp.qkvDotOffset + k + j];
      }
    }
    dscores_dot_out[dsBase + s] = dsDot;
  }
  if (row.t > 0u) {
    dscores_dot_out[dsBase - 1u] = inner;
  }
  let dqAt = bp.dqkvDotOffset + head_at(row.b, row.t, 0u, row.h, T, H, HS);
  for (var j = 0u; j < HS; j++) {
    dqkv_dot[dqAt + j] = dqDot[j];
  }
}

@group(0) @binding(7) var<storage, read> dscores_dot: array<f32>;

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
  let vAt = bp.qkvOffset + head_at(row.b, s, 2u, row.h, T, H, HS);
  var v: array<f32, HS>;
  var dkDot: array<f32, HS>;
  var dvDot: array<f32, HS>;
  for (var j = 0u; j < HS; j++) {
    v[j] = qkv[vAt + j];
    dkDot[j] = 0.0;
    dvDot[j] = 0.0;
  }
  for (var t = s; t < T; t++) {
    let at = head + t * T + s;
    let p = probs[bp.probsOffset + at];
    let pDot = probs_dot[bp.probsDotOffset + at];
    if (p == 0.0 && pDot == 0.0) {
      continue; // masked key or padded query: contributes nothing
    }
    let g = bp.dyOffset + (row.b * T + t) * d + row.h * HS;
    let gDot = bp.dyDotOffset + (row.b * T + t) * d + row.h * HS;
    var dp = 0.0;
    for (var j = 0u; j < HS; j++) {
      dp += dy[g + j] * v[j];
    }
    // I_t from backward_query's slot; row 0's single key has I_0 = p_00·dp_00.
    var inner = p * dp;
    if (t > 0u) {
      inner = dscores_dot[bp.dscoresDotOffset + head + t * T - 1u];
    }
    let ds = p * (dp - inner) * bp.scale;
    let dsDot = dscores_dot[bp.dscoresDotOffset + at];
    let q = head_at(row.b, t, 0u, row.h, T, H, HS);
    for (var j = 0u; j < HS; j++) {
      dkDot[j] += dsDot * qkv[bp.qkvOffset + q + j] + ds * qkv_dot[bp.qkvDotOffset + q + j];
      dvDot[j] += pDot * dy[g + j] + p * dy_dot[gDot + j];
    }
  }
  let dkAt = bp.dqkvDotOffset + head_at(row.b, s, 1u, row.h, T, H, HS);
  for (var j = 0u; j < HS; j++) {
    dqkv_dot[dkAt + j] = dkDot[j];
    dqkv_dot[dkAt + d + j] = dvDot[j];
  }
}
