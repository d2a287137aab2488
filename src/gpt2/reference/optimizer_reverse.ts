// Float64 reference of one AdamW (and SGD-with-momentum) step over flat parameter segments and of
// its reverse, the vector–Jacobian product that metagradients pull back through (MATH.md §7,
// shaders/gpt2_optimizer_reverse.wgsl). PyTorch's global-norm clipping, coef = min(1, c/(‖g‖ +
// 1e-6)) over every segment together, is part of the step, so its Jacobian is part of the reverse.

/** One flat segment's state before the step; elements [0, decayEnd) get weight decay. */
export interface AdamwSegment64 {
  theta: ArrayLike<number>;
  m: ArrayLike<number>;
  v: ArrayLike<number>;
  /** The raw (unclipped) gradient at theta. */
  g: ArrayLike<number>;
  decayEnd: number;
}

export interface AdamwStepHyper64 {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Under the square root: s = sqrt(v̂ + epsRoot). */
  epsRoot: number;
  weightDecay: number;
  /** 1-based index of the update: c₁ = 1 − β₁^step, c₂ = 1 − β₂^step. */
  step: number;
  /** Global-norm clipping threshold; 0 disables it. */
  maxNorm: number;
}

export interface AdamwState64 {
  theta: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** Cotangents of (θ, m, v) (after the step for the input of the reverse, before it for its output). */
export interface AdamwCotangent64 {
  thetaBar: Float64Array;
  mBar: Float64Array;
  vBar: Float64Array;
}

function globalNorm(segments: readonly { g: ArrayLike<number> }[]): number {
  let sq = 0;
  for (const s of segments) for (let i = 0; i < s.g.length; i++) sq += s.g[i] * s.g[i];
  return Math.sqrt(sq);
}

/** The clipping coefficient applied to every gradient (1 without clipping). */
export function clipCoef64(norm: number, maxNorm: number): number {
  return maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
}

/** The state after one AdamW step, in the operation order of adamwStep (reference/optimizer.ts). */
export function adamwForward64(
  segments: readonly AdamwSegment64[],
  hp: AdamwStepHyper64,
): AdamwState64[] {
  const coef = clipCoef64(globalNorm(segments), hp.maxNorm);
  const c1 = 1 - hp.beta1 ** hp.step, c2 = 1 - hp.beta2 ** hp.step;
  return segments.map((s) => {
    const n = s.theta.length;
    const theta = new Float64Array(n), m = new Float64Array(n), v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = coef * s.g[i];
      m[i] = hp.beta1 * s.m[i] + (1 - hp.beta1) * g;
      v[i] = hp.beta2 * s.v[i] + (1 - hp.beta2) * g * g;
      const wd = i < s.decayEnd ? hp.weightDecay : 0;
      let w = s.theta[i];
      w -= hp.lr * wd * w;
      w -= hp.lr * (m[i] / c1) / (Math.sqrt(v[i] / c2 + hp.epsRoot) + hp.eps);
      theta[i] = w;
    }
    return { theta, m, v };
  });
}

export interface AdamwReverse64 extends AdamwCotangent64 {
  /** Cotangent of the raw gradient g (clipping pulled back). */
  gBar: Float64Array;
}

/**
 * The vector–Jacobian product of adamwForward64 at `segments` with the cotangents `after` of
 * (θ', m', v'): the cotangents of (θ, m, v, g). θ̄ excludes the H·ḡ term (the gradient is an input
 * here); the caller adds it.
 */
export function adamwReverse64(
  segments: readonly AdamwSegment64[],
  after: readonly AdamwCotangent64[],
  hp: AdamwStepHyper64,
): AdamwReverse64[] {
  if (after.length !== segments.length) {
    throw new RangeError(`${after.length} cotangents for ${segments.length} segments`);
  }
  const coef = clipCoef64(globalNorm(segments), hp.maxNorm);
  const { beta1: b1, beta2: b2 } = hp;
  const c1 = 1 - b1 ** hp.step, c2 = 1 - b2 ** hp.step;
  const out = segments.map((s, k) => {
    const n = s.theta.length;
    const { thetaBar: tb, mBar: mb, vBar: vb } = after[k];
    const thetaBar = new Float64Array(n), mBar = new Float64Array(n), vBar = new Float64Array(n);
    const gBar = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const g = coef * s.g[i];
      const m = b1 * s.m[i] + (1 - b1) * g, v = b2 * s.v[i] + (1 - b2) * g * g;
      const mHat = m / c1, sr = Math.sqrt(v / c2 + hp.epsRoot), d = sr + hp.eps;
      const u = -hp.lr * tb[i];
      const M = mb[i] + u / (c1 * d);
      // ∂(m̂/d)/∂v' = −m̂/(2·s·d²·c₂); with s = 0 the state is g̃ = m = 0 and the term is 0.
      const V = sr > 0 ? vb[i] - u * mHat / (2 * sr * d * d * c2) : vb[i];
      const wd = i < s.decayEnd ? hp.weightDecay : 0;
      thetaBar[i] = tb[i] * (1 - hp.lr * wd);
      mBar[i] = b1 * M;
      vBar[i] = b2 * V;
      gBar[i] = (1 - b1) * M + 2 * (1 - b2) * g * V; // ḡ̃, the clipped gradient's cotangent
    }
    return { thetaBar, mBar, vBar, gBar };
  });
  pullBackClipping(segments, out.map((o) => o.gBar), hp.maxNorm);
  return out;
}

/**
 * ḡ̃ (the clipped gradient's cotangent) → ḡ in place. g̃ = coef(‖g‖)·g with coef = c/(‖g‖ + 1e-6)
 * where clipping acts, so ḡ = coef·ḡ̃ − c/((‖g‖ + 1e-6)²·‖g‖) · g · (gᵀḡ̃); elsewhere ḡ = ḡ̃.
 */
function pullBackClipping(
  segments: readonly { g: ArrayLike<number> }[],
  gBars: readonly Float64Array[],
  maxNorm: number,
): void {
  let sq = 0;
  for (const s of segments) for (let i = 0; i < s.g.length; i++) sq += s.g[i] * s.g[i];
  const norm = Math.sqrt(sq);
  const coef = clipCoef64(norm, maxNorm);
  if (!(maxNorm > 0 && coef < 1 && norm > 0)) return;
  let dot = 0;
  for (const [k, s] of segments.entries()) {
    for (let i = 0; i < s.g.length; i++) dot += s.g[i] * gBars[k][i];
  }
  const slope = maxNorm / ((norm + 1e-6) ** 2 * norm);
  for (const [k, s] of segments.entries()) {
    const gBar = gBars[k];
    for (let i = 0; i < gBar.length; i++) gBar[i] = coef * gBar[i] - slope * s.g[i] * dot;
  }
}

/** One flat segment of SGD-with-momentum state before the step. */
export interface SgdSegment64 {
  theta: ArrayLike<number>;
  /** The momentum buffer. */
  buf: ArrayLike<number>;
  /** The raw (unclipped) gradient at theta. */
  g: ArrayLike<number>;
  decayEnd: number;
}

export interface SgdStepHyper64 {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Global-norm clipping threshold; 0 disables it. */
  maxNorm: number;
}

/** buf' = μ·buf + g̃; θ' = θ − lr·wd·θ − lr·buf' (the order of sgdStep, reference/optimizer.ts). */
export function sgdForward64(
  segments: readonly SgdSegment64[],
  hp: SgdStepHyper64,
): { theta: Float64Array; buf: Float64Array }[] {
  const coef = clipCoef64(globalNorm(segments), hp.maxNorm);
  return segments.map((s) => {
    const n = s.theta.length;
    const theta = new Float64Array(n), buf = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      buf[i] = hp.momentum * s.buf[i] + coef * s.g[i];
      const wd = i < s.decayEnd ? hp.weightDecay : 0;
      let w = s.theta[i];
      w -= hp.lr * wd * w;
      w -= hp.lr * buf[i];
      theta[i] = w;
    }
    return { theta, buf };
  });
}

export interface SgdCotangent64 {
  thetaBar: Float64Array;
  bufBar: Float64Array;
}

/**
 * The VJP of sgdForward64 with cotangents `after` of (θ', buf'): B = b̄' − lr·θ̄' (total cotangent
 * of buf'), b̄ = μ·B, ḡ̃ = B, θ̄ = θ̄'·(1 − lr·wd) (without H·ḡ), clipping pulled back.
 */
export function sgdReverse64(
  segments: readonly SgdSegment64[],
  after: readonly SgdCotangent64[],
  hp: SgdStepHyper64,
): (SgdCotangent64 & { gBar: Float64Array })[] {
  if (after.length !== segments.length) {
    throw new RangeError(`${after.length} cotangents for ${segments.length} segments`);
  }
  const out = segments.map((s, k) => {
    const n = s.theta.length;
    const { thetaBar: tb, bufBar: bb } = after[k];
    const thetaBar = new Float64Array(n), bufBar = new Float64Array(n);
    const gBar = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const B = bb[i] - hp.lr * tb[i];
      const wd = i < s.decayEnd ? hp.weightDecay : 0;
      thetaBar[i] = tb[i] * (1 - hp.lr * wd);
      bufBar[i] = hp.momentum * B;
      gBar[i] = B;
    }
    return { thetaBar, bufBar, gBar };
  });
  pullBackClipping(segments, out.map((o) => o.gBar), hp.maxNorm);
  return out;
}
