// A float64 CPU reference of the whole GPT-2 model in plain TypeScript: forward (logits,
// per-token and per-example losses) and backward (every parameter gradient, and per-token
// linear-layer taps), built from the per-op references beside it (attention, cross_entropy,
// layernorm, linear; the optimisation steps are optimizer.ts). It mirrors the GPU model op for
// op and is the ground truth of the parity tests; it is slow (plain loops) and meant for tiny
// configs.
import { gelu, geluGrad } from "../../gpu/reference/elementwise.ts";
import { exampleLosses, type PreparedBatch } from "../batch.ts";
import { type Dims, dimsOf, type Gpt2Config } from "../config.ts";
import { type ParamSet } from "../params.ts";
import { attention, attentionBackward } from "./attention.ts";
import { crossEntropy } from "./cross_entropy.ts";
import { layerNorm, layerNormBackward, type LayerNormCache } from "./layernorm.ts";
import { linear, linearBackward } from "./linear.ts";

export type Params64 = Map<string, Float64Array>;

export function toParams64(params: ParamSet): Params64 {
  return new Map([...params.values].map(([k, v]) => [k, Float64Array.from(v)]));
}

export function zerosLike(params: Params64): Params64 {
  return new Map([...params].map(([k, v]) => [k, new Float64Array(v.length)]));
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
