// Float64 reference of the optimisation step (shaders/gpt2_optimizer.wgsl): PyTorch's global-norm
// gradient clipping, AdamW and SGD with momentum, over named parameters.
import type { Gpt2Config } from "../config.ts";
import { paramSpecs } from "../params.ts";
import { type Params64, zerosLike } from "./model.ts";

function entry(params: Params64, name: string): Float64Array {
  const v = params.get(name);
  if (!v) throw new Error(`missing parameter ${name}`);
  return v;
}

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
  /** Added to v̂ under the square root (default 0: torch.optim.AdamW exactly). */
  epsRoot?: number;
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

/**
 * torch.optim.AdamW: p ← p − lr·wd·p (2-D parameters only), then the bias-corrected Adam step
 * p ← p − lr·m̂/(sqrt(v̂ + epsRoot) + eps).
 */
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
  const epsRoot = hp.epsRoot ?? 0;
  const decay = decays(config);
  for (const [name, w] of params) {
    const g = entry(grads, name), m = entry(state.m, name), v = entry(state.v, name);
    const wd = decay.get(name) ? hp.weightDecay : 0;
    for (let i = 0; i < w.length; i++) {
      m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g[i];
      v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g[i] * g[i];
      w[i] -= hp.lr * wd * w[i];
      w[i] -= hp.lr * (m[i] / bc1) / (Math.sqrt(v[i] / bc2 + epsRoot) + hp.eps);
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
    const g = entry(grads, name), buf = entry(momentum, name);
    const wd = decay.get(name) ? hp.weightDecay : 0;
    for (let i = 0; i < w.length; i++) {
      buf[i] = hp.momentum * buf[i] + g[i];
      w[i] -= hp.lr * wd * w[i];
      w[i] -= hp.lr * buf[i];
    }
  }
}
