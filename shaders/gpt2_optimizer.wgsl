// Optimiser updates over the flat parameter buffer, with global-norm gradient clipping folded in.
// Layout: params, grads, m, v (AdamW) or momentum (SGD) are flat f32 buffers of the same layout;
// the update covers elements [offset, offset + n); elements below decayEnd get weight decay (the
// parameter layout puts every decayed tensor first). normSq[normOffset] holds Σ grads² (computed
// by a reduction launched just before), so clipping needs no readback:
//   coef = min(1, maxNorm / (sqrt(normSq) + 1e-6)) when maxNorm > 0, else 1; g = coef·grads.
// `adamw`  m ← β1·m + (1-β1)·g; v ← β2·v + (1-β2)·g²; p ← p - lr·wd·p;
//          p ← p - lr·(m/bc1)/(sqrt(v/bc2 + epsRoot) + eps), bc1 = 1-β1^t and bc2 = 1-β2^t from
//          the CPU (epsRoot = 0 is plain AdamW, bit for bit; > 0 smooths the metagradient).
// `sgd`    buf ← μ·buf + g; p ← p - lr·wd·p - lr·buf.
// Grid: 1-D over n, folded into x/y.

struct AdamParams {
  n: u32,
  offset: u32,
  decayEnd: u32,
  normOffset: u32,
  lr: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weightDecay: f32,
  bc1: f32,
  bc2: f32,
  maxNorm: f32,
  epsRoot: f32,
}

@group(0) @binding(0) var<uniform> ap: AdamParams;
@group(0) @binding(1) var<storage, read_write> params: array<f32>;
@group(0) @binding(2) var<storage, read> grads: array<f32>;
@group(0) @binding(3) var<storage, read> norm_sq: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

fn clip_coef(maxNorm: f32, normSq: f32) -> f32 {
  if (maxNorm <= 0.0) {
    return 1.0;
  }
  return min(1.0, maxNorm / (sqrt(normSq) + 1e-6));
}

@compute @workgroup_size(WG)
fn adamw(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = flat_index(gid, groups);
  if (k >= ap.n) {
    return;
  }
  let i = ap.offset + k;
  let g = clip_coef(ap.maxNorm, norm_sq[ap.normOffset]) * grads[i];
  let mi = ap.beta1 * m[i] + (1.0 - ap.beta1) * g;
  let vi = ap.beta2 * v[i] + (1.0 - ap.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let wd = select(0.0, ap.weightDecay, k < ap.decayEnd);
  var p = params[i];
  p -= ap.lr * wd * p;
  p -= ap.lr * (mi / ap.bc1) / (sqrt(vi / ap.bc2 + ap.epsRoot) + ap.eps);
  params[i] = p;
}

struct SgdParams {
  n: u32,
  offset: u32,
  decayEnd: u32,
  normOffset: u32,
  lr: f32,
  momentum: f32,
  weightDecay: f32,
  maxNorm: f32,
}

@group(0) @binding(0) var<uniform> sp: SgdParams;
@group(0) @binding(4) var<storage, read_write> buf: array<f32>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = flat_index(gid, groups);
  if (k >= sp.n) {
    return;
  }
  let i = sp.offset + k;
  let g = clip_coef(sp.maxNorm, norm_sq[sp.normOffset]) * grads[i];
  let b = sp.momentum * buf[i] + g;
  buf[i] = b;
  let wd = select(0.0, sp.weightDecay, k < sp.decayEnd);
  var p = params[i];
  p -= sp.lr * wd * p;
  p -= sp.lr * b;
  params[i] = p;
}
