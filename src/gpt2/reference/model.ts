// A float64 CPU reference of the whole GPT-2 model in plain TypeScript: forward (logits,
// per-token and per-example losses), backward (every parameter gradient), global-norm gradient
// clipping, AdamW and SGD. It mirrors the GPU model op for op and is the ground truth of the
// parity tests; it is slow (plain loops) and meant for tiny configs.
import { gelu, geluGrad } from "../../gpu/reference/elementwise.ts";
import { exampleLosses, type PreparedBatch } from "../batch.ts";
import { type Dims, dimsOf, type Gpt2Config } from "../config.ts";
import { type ParamSet, paramSpecs } from "../params.ts";

export type Params64 = Map<string, Float64Array>;

export function toParams64(params: ParamSet): Params64 {
  return new Map([...params.values].map(([k, v]) => [k, Float64Array.from(v)]));
}

export function zerosLike(params: Params64): Params64 {
  return new Map([...params].map(([k, v]) => [k, new Float64Array(v.length)]));
}

// ---- ops ----------------------------------------------------------------------------------------

/** y[r, o] = b[o] + Σ_i x[r, i]·W[i, o] (Conv1D layout W [nIn, nOut]). */
function linear(x: Float64Array, W: Float64Array, b: Float64Array, rows: number, nIn: number) {
  const nOut = b.length;
  const y = new Float64Array(rows * nOut);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) y[r * nOut + o] = b[o];
    for (let i = 0; i < nIn; i++) {
      const xv = x[r * nIn + i];
      for (let o = 0; o < nOut; o++) y[r * nOut + o] += xv * W[i * nOut + o];
    }
  }
  return y;
}

/** dx = dy·Wᵀ; dW += xᵀ·dy; db += Σ_r dy. */
function linearBackward(
  x: Float64Array,
  W: Float64Array,
  dy: Float64Array,
  rows: number,
  nIn: number,
  nOut: number,
  dW: Float64Array,
  db: Float64Array,
): Float64Array {
  const dx = new Float64Array(rows * nIn);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < nOut; o++) db[o] += dy[r * nOut + o];
    for (let i = 0; i < nIn; i++) {
      const xv = x[r * nIn + i];
      let acc = 0;
      for (let o = 0; o < nOut; o++) {
        const g = dy[r * nOut + o];
        acc += g * W[i * nOut + o];
        dW[i * nOut + o] += xv * g;
      }
      dx[r * nIn + i] = acc;
    }
  }
  return dx;
}

export interface LayerNormCache {
  mean: Float64Array;
  rstd: Float64Array;
}

export function layerNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  d: number,
  eps: number,
): { y: Float64Array } & LayerNormCache {
  const y = new Float64Array(rows * d);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < d; c++) m += x[r * d + c];
    m /= d;
    let v = 0;
    for (let c = 0; c < d; c++) v += (x[r * d + c] - m) ** 2;
    v /= d;
    const s = 1 / Math.sqrt(v + eps);
    mean[r] = m;
    rstd[r] = s;
    for (let c = 0; c < d; c++) y[r * d + c] = (x[r * d + c] - m) * s * w[c] + b[c];
  }
  return { y, mean, rstd };
}

/** dx (returned) and dw, db (accumulated) of LayerNorm. */
export function layerNormBackward(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  cache: LayerNormCache,
  dy: ArrayLike<number>,
  rows: number,
  d: number,
  dw: Float64Array,
  db: Float64Array,
): Float64Array {
  const dx = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const m = cache.mean[r], s = cache.rstd[r];
    let meanG = 0, meanGX = 0;
    for (let c = 0; c < d; c++) {
      const xhat = (x[r * d + c] - m) * s;
      const g = dy[r * d + c] * w[c];
      meanG += g;
      meanGX += g * xhat;
      dw[c] += dy[r * d + c] * xhat;
      db[c] += dy[r * d + c];
    }
    meanG /= d;
    meanGX /= d;
    for (let c = 0; c < d; c++) {
      const xhat = (x[r * d + c] - m) * s;
      dx[r * d + c] = s * (dy[r * d + c] * w[c] - meanG - xhat * meanGX);
    }
  }
  return dx;
}

/**
 * Causal self-attention with a key padding mask. qkv [B, T, 3d] (q | k | v, heads contiguous
 * inside each); returns y [B, T, d] and the probabilities [B, H, T, T] (0 where masked; a query
 * with no visible key gets an all-zero row and output 0).
 */
export function attention(
  qkv: ArrayLike<number>,
  keyMask: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): { y: Float64Array; probs: Float64Array } {
  const d = H * hs;
  const y = new Float64Array(B * T * d);
  const probs = new Float64Array(B * H * T * T);
  const scale = 1 / Math.sqrt(hs);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const q = (b * T + t) * 3 * d + h * hs;
        const row = ((b * H + h) * T + t) * T;
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          const k = (b * T + s) * 3 * d + d + h * hs;
          let dot = 0;
          for (let j = 0; j < hs; j++) dot += qkv[q + j] * qkv[k + j];
          probs[row + s] = dot * scale;
          max = Math.max(max, dot * scale);
        }
        if (max === -Infinity) continue;
        let sum = 0;
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          probs[row + s] = Math.exp(probs[row + s] - max);
          sum += probs[row + s];
        }
        for (let s = 0; s <= t; s++) {
          if (keyMask[b * T + s] === 0) continue;
          probs[row + s] /= sum;
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          for (let j = 0; j < hs; j++) {
            y[(b * T + t) * d + h * hs + j] += probs[row + s] * qkv[v + j];
          }
        }
      }
    }
  }
  return { y, probs };
}

/** dqkv [B, T, 3d] from dy [B, T, d]. */
export function attentionBackward(
  qkv: ArrayLike<number>,
  probs: ArrayLike<number>,
  dy: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hs: number,
): Float64Array {
  const d = H * hs;
  const dqkv = new Float64Array(B * T * 3 * d);
  const scale = 1 / Math.sqrt(hs);
  const dp = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let t = 0; t < T; t++) {
        const row = ((b * H + h) * T + t) * T;
        const q = (b * T + t) * 3 * d + h * hs;
        const go = (b * T + t) * d + h * hs;
        let inner = 0;
        for (let s = 0; s <= t; s++) {
          const v = (b * T + s) * 3 * d + 2 * d + h * hs;
          let acc = 0;
          for (let j = 0; j < hs; j++) acc += dy[go + j] * qkv[v + j];
          dp[s] = acc;
          inner += probs[row + s] * acc;
        }
        for (let s = 0; s <= t; s++) {
          const p = probs[row + s];
          if (p === 0) continue;
          const ds = p * (dp[s] - inner) * scale;
          const k = (b * T + s) * 3 * d + d + h * hs;
          const v = k + d;
          for (let j = 0; j < hs; j++) {
            dqkv[q + j] += ds * qkv[k + j];
            dqkv[k + j] += ds * qkv[q + j];
            dqkv[v + j] += p * dy[go + j];
          }
        }
      }
    }
  }
  return dqkv;
}

/** Per-row cross-entropy of logits [rows, V] against targets, and its softmax. */
export function crossEntropy(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  rows: number,
  V: number,
): { loss: Float64Array; probs: Float64Array } {
  const loss = new Float64Array(rows);
  const probs = new Float64Array(rows * V);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < V; c++) max = Math.max(max, logits[r * V + c]);
    let sum = 0;
    for (let c = 0; c < V; c++) sum += Math.exp(logits[r * V + c] - max);
    const lse = max + Math.log(sum);
    for (let c = 0; c < V; c++) probs[r * V + c] = Math.exp(logits[r * V + c] - lse);
    loss[r] = lse - logits[r * V + targets[r]];
  }
  return { loss, probs };
}

// ---- model --------------------------------------------------------------------------------------

interface LayerCache {
  x: Float64Array;
  ln1: Float64Array;
  ln1c: LayerNormCache;
  qkv: Float64Array;
  probs: Float64Array;
  y: Float64Array;
  xMid: Float64Array;
  ln2: Float64Array;
  ln2c: LayerNormCache;
  fc: Float64Array;
  g: Float64Array;
}

export interface ReferenceForward {
  logits: Float64Array;
  tokenLoss: Float64Array;
  perExample: number[];
  loss: number;
  cache: { layers: LayerCache[]; xFinal: Float64Array; lnf: Float64Array; lnfc: LayerNormCache };
}

function p(params: Params64, name: string): Float64Array {
  const v = params.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

export function referenceForward(
  params: Params64,
  config: Gpt2Config,
  batch: PreparedBatch,
): ReferenceForward {
  const D: Dims = dimsOf(config);
  const { d, L, H, hs, f, V, eps } = D;
  const { B, T } = batch;
  const N = B * T;
  const wte = p(params, "wte.weight"), wpe = p(params, "wpe.weight");
  let x = new Float64Array(N * d);
  for (let r = 0; r < N; r++) {
    const id = batch.tokens[r], t = r % T;
    for (let c = 0; c < d; c++) x[r * d + c] = wte[id * d + c] + wpe[t * d + c];
  }
  const layers: LayerCache[] = [];
  for (let l = 0; l < L; l++) {
    const h = (s: string) => p(params, `h.${l}.${s}`);
    const ln1r = layerNorm(x, h("ln_1.weight"), h("ln_1.bias"), N, d, eps);
    const qkv = linear(ln1r.y, h("attn.c_attn.weight"), h("attn.c_attn.bias"), N, d);
    const att = attention(qkv, batch.keyMask, B, T, H, hs);
    const proj = linear(att.y, h("attn.c_proj.weight"), h("attn.c_proj.bias"), N, d);
    const xMid = x.map((v, i) => v + proj[i]);
    const ln2r = layerNorm(xMid, h("ln_2.weight"), h("ln_2.bias"), N, d, eps);
    const fc = linear(ln2r.y, h("mlp.c_fc.weight"), h("mlp.c_fc.bias"), N, d);
    const g = fc.map(gelu);
    const mp = linear(g, h("mlp.c_proj.weight"), h("mlp.c_proj.bias"), N, f);
    layers.push({
      x,
      ln1: ln1r.y,
      ln1c: ln1r,
      qkv,
      probs: att.probs,
      y: att.y,
      xMid,
      ln2: ln2r.y,
      ln2c: ln2r,
      fc,
      g,
    });
    x = xMid.map((v, i) => v + mp[i]);
  }
  const lnfr = layerNorm(x, p(params, "ln_f.weight"), p(params, "ln_f.bias"), N, d, eps);
  const logits = new Float64Array(N * V);
  for (let r = 0; r < N; r++) {
    for (let v = 0; v < V; v++) {
      let acc = 0;
      for (let c = 0; c < d; c++) acc += lnfr.y[r * d + c] * wte[v * d + c];
      logits[r * V + v] = acc;
    }
  }
  const { loss: tokenLoss } = crossEntropy(logits, batch.targets, N, V);
  const { perExample, loss } = exampleLosses(batch, tokenLoss);
  return {
    logits,
    tokenLoss,
    perExample,
    loss,
    cache: { layers, xFinal: x, lnf: lnfr.y, lnfc: lnfr },
  };
}

/** One linear layer's per-token input a_t [N, d_in] and output gradient s_t [N, d_out], N = B·T. */
export interface ReferenceLinearTap {
  /** HF module name, e.g. "h.0.mlp.c_fc". */
  name: string;
  input: Float64Array;
  outputGrad: Float64Array;
}

/**
 * Gradients of Σ_r weights[r]·ce_r (default: the batch loss, batch.lossWeights) with respect to
 * every parameter. `onLinear` sees every block's four linear layers' taps as the backward
 * reaches them (the arrays are the backward's own: copy what must outlive the call).
 */
export function referenceBackward(
  params: Params64,
  config: Gpt2Config,
  batch: PreparedBatch,
  fwd: ReferenceForward,
  weights: ArrayLike<number> = batch.lossWeights,
  onLinear?: (tap: ReferenceLinearTap) => void,
): Params64 {
  const { d, L, H, hs, f, V } = dimsOf(config);
  const { B, T } = batch;
  const N = B * T;
  const grads = zerosLike(params);
  const gr = (name: string) => p(grads, name);
  const wte = p(params, "wte.weight");
  const { probs } = crossEntropy(fwd.logits, batch.targets, N, V);
  const dlogits = new Float64Array(N * V);
  for (let r = 0; r < N; r++) {
    for (let v = 0; v < V; v++) {
      dlogits[r * V + v] = weights[r] * (probs[r * V + v] - (v === batch.targets[r] ? 1 : 0));
    }
  }
  const dwte = gr("wte.weight");
  const dlnf = new Float64Array(N * d);
  for (let r = 0; r < N; r++) {
    for (let v = 0; v < V; v++) {
      const g = dlogits[r * V + v];
      if (g === 0) continue;
      for (let c = 0; c < d; c++) {
        dlnf[r * d + c] += g * wte[v * d + c];
        dwte[v * d + c] += g * fwd.cache.lnf[r * d + c];
      }
    }
  }
  let dx = layerNormBackward(
    fwd.cache.xFinal,
    p(params, "ln_f.weight"),
    fwd.cache.lnfc,
    dlnf,
    N,
    d,
    gr("ln_f.weight"),
    gr("ln_f.bias"),
  );
  for (let l = L - 1; l >= 0; l--) {
    const c = fwd.cache.layers[l];
    const h = (s: string) => p(params, `h.${l}.${s}`);
    const hg = (s: string) => gr(`h.${l}.${s}`);
    const dg = linearBackward(
      c.g,
      h("mlp.c_proj.weight"),
      dx,
      N,
      f,
      d,
      hg("mlp.c_proj.weight"),
      hg("mlp.c_proj.bias"),
    );
    onLinear?.({ name: `h.${l}.mlp.c_proj`, input: c.g, outputGrad: dx });
    const dfc = dg.map((v, i) => v * geluGrad(c.fc[i]));
    onLinear?.({ name: `h.${l}.mlp.c_fc`, input: c.ln2, outputGrad: dfc });
    const dln2 = linearBackward(
      c.ln2,
      h("mlp.c_fc.weight"),
      dfc,
      N,
      d,
      f,
      hg("mlp.c_fc.weight"),
      hg("mlp.c_fc.bias"),
    );
    const dmidLn = layerNormBackward(
      c.xMid,
      h("ln_2.weight"),
      c.ln2c,
      dln2,
      N,
      d,
      hg("ln_2.weight"),
      hg("ln_2.bias"),
    );
    const dMid = dx.map((v, i) => v + dmidLn[i]);
    const dy = linearBackward(
      c.y,
      h("attn.c_proj.weight"),
      dMid,
      N,
      d,
      d,
      hg("attn.c_proj.weight"),
      hg("attn.c_proj.bias"),
    );
    onLinear?.({ name: `h.${l}.attn.c_proj`, input: c.y, outputGrad: dMid });
    const dqkv = attentionBackward(c.qkv, c.probs, dy, B, T, H, hs);
    onLinear?.({ name: `h.${l}.attn.c_attn`, input: c.ln1, outputGrad: dqkv });
    const dln1 = linearBackward(
      c.ln1,
      h("attn.c_attn.weight"),
      dqkv,
      N,
      d,
      3 * d,
      hg("attn.c_attn.weight"),
      hg("attn.c_attn.bias"),
    );
    const dxLn = layerNormBackward(
      c.x,
      h("ln_1.weight"),
      c.ln1c,
      dln1,
      N,
      d,
      hg("ln_1.weight"),
      hg("ln_1.bias"),
    );
    dx = dMid.map((v, i) => v + dxLn[i]);
  }
  const dwpe = gr("wpe.weight");
  for (let r = 0; r < N; r++) {
    const id = batch.tokens[r], t = r % T;
    for (let c = 0; c < d; c++) {
      dwte[id * d + c] += dx[r * d + c];
      dwpe[t * d + c] += dx[r * d + c];
    }
  }
  return grads;
}

// ---- optimisation -------------------------------------------------------------------------------

/** PyTorch clip_grad_norm_: scales grads by min(1, maxNorm / (norm + 1e-6)); returns the norm. */
export function clipGradNorm(grads: Params64, maxNorm: number): number {
  let sq = 0;
  for (const g of grads.values()) for (const v of g) sq += v * v;
  const norm = Math.sqrt(sq);
  const coef = Math.min(1, maxNorm / (norm + 1e-6));
  if (coef < 1) { for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] *= coef; }
  return norm;
}

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamState64 {
  step: number;
  m: Params64;
  v: Params64;
}

export function adamState64(params: Params64): AdamState64 {
  return { step: 0, m: zerosLike(params), v: zerosLike(params) };
}

function decays(config: Gpt2Config): Map<string, boolean> {
  return new Map(paramSpecs(config).map((s) => [s.name, s.decay]));
}

/** torch.optim.AdamW: p ← p − lr·wd·p (2-D parameters only), then the bias-corrected Adam step. */
export function adamwStep(
  params: Params64,
  grads: Params64,
  state: AdamState64,
  hp: AdamWHyper,
  config: Gpt2Config,
): void {
  state.step++;
  const bc1 = 1 - hp.beta1 ** state.step;
  const bc2 = 1 - hp.beta2 ** state.step;
  const decay = decays(config);
  for (const [name, w] of params) {
    const g = p(grads, name), m = p(state.m, name), v = p(state.v, name);
    const wd = decay.get(name) ? hp.weightDecay : 0;
    for (let i = 0; i < w.length; i++) {
      m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g[i];
      v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g[i] * g[i];
      w[i] -= hp.lr * wd * w[i];
      w[i] -= hp.lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + hp.eps);
    }
  }
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/** SGD with heavy-ball momentum (buf ← μ·buf + g) and decoupled decay on 2-D parameters. */
export function sgdStep(
  params: Params64,
  grads: Params64,
  momentum: Params64,
  hp: SgdHyper,
  config: Gpt2Config,
): void {
  const decay = decays(config);
  for (const [name, w] of params) {
    const g = p(grads, name), buf = p(momentum, name);
    const wd = decay.get(name) ? hp.weightDecay : 0;
    for (let i = 0; i < w.length; i++) {
      buf[i] = hp.momentum * buf[i] + g[i];
      w[i] -= hp.lr * wd * w[i];
      w[i] -= hp.lr * buf[i];
    }
  }
}
