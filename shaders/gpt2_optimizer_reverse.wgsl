// The reverse of one AdamW or SGD step (shaders/gpt2_optimizer.wgsl) for metagradients: cotangents
// of the state after the step pulled back to the state and raw gradient before it (MATH.md §7).
// Layout: every tensor is a flat f32 segment of n elements at its own element offset (uniform
// `*Off`); elements k < decayEnd of the segment get weight decay. grads, m, v are the raw gradient
// and the moments BEFORE the update; normSq[normOff] = Σ grads² over all segments (as the forward
// read it); gDot[gDotOff] = gᵀ·ḡ̃ over all segments, filled between the two passes.
// `adamw_reverse` (pass 1), with g̃ = coef·g, coef = min(1, maxNorm / (sqrt(normSq) + 1e-6)) (1
// when maxNorm ≤ 0), m' = β1·m + (1-β1)·g̃, v' = β2·v + (1-β2)·g̃², m̂ = m'/c1, v̂ = v'/c2,
// s = sqrt(v̂ + epsRoot), d = s + eps, ū = −lr·θ̄':
//   M = m̄' + ū/(c1·d);  V = v̄' − ū·m̂/(2·s·d²·c2) (v̄' where s = 0)
//   θ̄ ← θ̄'·(1 − lr·wd);  m̄ ← β1·M;  v̄ ← β2·V;  gBar ← ḡ̃ = (1-β1)·M + 2(1-β2)·g̃·V
// `sgd_reverse` (pass 1 for SGD, buf' = μ·buf + g̃, θ' = θ(1 − lr·wd) − lr·buf'), linear in the
// state so it reads none of it: B = b̄' − lr·θ̄'; θ̄ ← θ̄'·(1 − lr·wd); b̄ ← μ·B; gBar ← ḡ̃ = B.
// `clip_reverse` (pass 2, only launched with clipping on), where clipping acted (the forward's
// own coef < 1, from the same f32 expression): gBar ← coef·ḡ̃ − coef/((‖g‖+1e-6)·‖g‖)·g·gDot,
// the exact derivative of coef(‖g‖)·g; elsewhere gBar stays ḡ̃.
// Grid: 1-D over n, folded into x/y.

struct ReverseParams {
  n: u32,
  decayEnd: u32,
  gradOff: u32,
  normOff: u32,
  gBarOff: u32,
  mOff: u32,
  vOff: u32,
  thetaBarOff: u32,
  mBarOff: u32,
  vBarOff: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  epsRoot: f32,
  weightDecay: f32,
  c1: f32,
  c2: f32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> rp: ReverseParams;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(3) var<storage, read_write> g_bar: array<f32>;
@group(0) @binding(4) var<storage, read> m: array<f32>;
@group(0) @binding(5) var<storage, read> v: array<f32>;
@group(0) @binding(6) var<storage, read_write> theta_bar: array<f32>;
@group(0) @binding(7) var<storage, read_write> m_bar: array<f32>;
@group(0) @binding(8) var<storage, read_write> v_bar: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

// The forward kernel's coefficient, the same f32 expression, so both sides agree on clipping.
fn clip_coef(maxNorm: f32, normSq: f32) -> f32 {
  if (maxNorm <= 0.0) {
    return 1.0;
  }
  return min(1.0, maxNorm / (sqrt(normSq) + 1e-6));
}

@compute @workgroup_size(WG)
fn adamw_reverse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = flat_index(gid, groups);
  if (k >= rp.n) {
    return;
  }
  let gt = clip_coef(rp.maxNorm, norm_sq[rp.normOff]) * grads[rp.gradOff + k];
  let mi = rp.beta1 * m[rp.mOff + k] + (1.0 - rp.beta1) * gt;
  let vi = rp.beta2 * v[rp.vOff + k] + (1.0 - rp.beta2) * gt * gt;
  let m_hat = mi / rp.c1;
  let s = sqrt(vi / rp.c2 + rp.epsRoot);
  let d = s + rp.eps;
  let tb = theta_bar[rp.thetaBarOff + k];
  let u = -rp.lr * tb;
  let big_m = m_bar[rp.mBarOff + k] + u / (rp.c1 * d);
  var big_v = v_bar[rp.vBarOff + k];
  if (s > 0.0) {
    // Grouped as (ū/d)·(m̂/d)/s so that no product of small numbers underflows.
    big_v -= 0.5 * (u / d) * (m_hat / d) / (s * rp.c2);
  }
  let wd = select(0.0, rp.weightDecay, k < rp.decayEnd);
  theta_bar[rp.thetaBarOff + k] = tb * (1.0 - rp.lr * wd);
  m_bar[rp.mBarOff + k] = rp.beta1 * big_m;
  v_bar[rp.vBarOff + k] = rp.beta2 * big_v;
  g_bar[rp.gBarOff + k] = (1.0 - rp.beta1) * big_m + 2.0 * (1.0 - rp.beta2) * gt * big_v;
}

struct ClipParams {
  n: u32,
  gradOff: u32,
  normOff: u32,
  gBarOff: u32,
  gDotOff: u32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> cp: ClipParams;
@group(0) @binding(4) var<storage, read> g_dot: array<f32>;

@compute @workgroup_size(WG)
fn clip_reverse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = flat_index(gid, groups);
  if (k >= cp.n) {
    return;
  }
  let coef = clip_coef(cp.maxNorm, norm_sq[cp.normOff]);
  let norm = sqrt(norm_sq[cp.normOff]);
  // coef = 1 (clipping did not act) has zero derivative in ‖g‖; so does g = 0.
  if (coef >= 1.0 || norm <= 0.0) {
    return;
  }
  let i = cp.gBarOff + k;
  // maxNorm/((‖g‖+1e-6)²·‖g‖) = coef/((‖g‖+1e-6)·‖g‖) where coef < 1.
  let slope = coef / ((norm + 1e-6) * norm);
  g_bar[i] = coef * g_bar[i] - slope * grads[cp.gradOff + k] * g_dot[cp.gDotOff];
}

struct SgdReverseParams {
  n: u32,
  decayEnd: u32,
  thetaBarOff: u32,
  bufBarOff: u32,
  gBarOff: u32,
  lr: f32,
  momentum: f32,
  weightDecay: f32,
}

@group(0) @binding(0) var<uniform> sr: SgdReverseParams;
@group(0) @binding(1) var<storage, read_write> sgd_theta_bar: array<f32>;
@group(0) @binding(2) var<storage, read_write> sgd_buf_bar: array<f32>;

@compute @workgroup_size(WG)
fn sgd_reverse(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = flat_index(gid, groups);
  if (k >= sr.n) {
    return;
  }
  let tb = sgd_theta_bar[sr.thetaBarOff + k];
  let big_b = sgd_buf_bar[sr.bufBarOff + k] - sr.lr * tb;
  let wd = select(0.0, sr.weightDecay, k < sr.decayEnd);
  sgd_theta_bar[sr.thetaBarOff + k] = tb * (1.0 - sr.lr * wd);
  sgd_buf_bar[sr.bufBarOff + k] = sr.momentum * big_b;
  g_bar[sr.gBarOff + k] = big_b;
}
