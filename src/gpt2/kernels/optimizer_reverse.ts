// Launchers of the AdamW and SGD reverse steps (shaders/gpt2_optimizer_reverse.wgsl): the
// cotangents of the optimiser state after one update pulled back to the state and raw gradient
// before it, for metagradients (MATH.md §7). Float64 reference:
// src/gpt2/reference/optimizer_reverse.ts.
import { colSum, dot } from "../../gpu/kernels/reduce.ts";
import { grid1d } from "../../gpu/kernels/grid.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import { WG } from "./common.ts";

/** What the reverse of either optimiser reads and writes besides its own state. */
interface ReverseRangeBase {
  /** θ_t, the parameters BEFORE step t's update (one segment, flat [n]); only its size is read. */
  params: Tensor;
  /** g_t, the raw (unclipped) gradient at θ_t. */
  grads: Tensor;
  /** [1] Σ g² over all segments (as the forward's clipping reads it). */
  normSq: Tensor;
  /** Elements [0, decayEnd) decay, as in UpdateRange. */
  decayEnd: number;
  /** 0: no clipping. */
  maxNorm: number;
  /** In: θ̄' (cotangent of θ_{t+1}); out: θ̄'·(1 − ηλ) (the caller adds H_t·ḡ). */
  thetaBar: Tensor;
  /** Out: ḡ, the cotangent of the RAW gradient g_t (clipping pulled back). */
  gBar: Tensor;
  /** [1] scratch for gᵀ·ḡ̃ over all segments; the same tensor in every range. */
  gDotGBarTilde: Tensor;
}

export interface AdamwReverseRange extends ReverseRangeBase {
  /** m_t, v_t: the moments BEFORE the update. */
  m: Tensor;
  v: Tensor;
  /** In: m̄'; out: m̄ = β₁·M. */
  mBar: Tensor;
  /** In: v̄'; out: v̄ = β₂·V. */
  vBar: Tensor;
}

export interface AdamwReverseHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  epsRoot: number;
  weightDecay: number;
  /** 1-based index of the update being reversed: c₁ = 1 − β₁^step. */
  step: number;
}

export interface SgdReverseRange extends ReverseRangeBase {
  /** In: the cotangent of the momentum buffer after the step; out: the one before it. */
  bufBar: Tensor;
}

export interface SgdReverseHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
}

function check(
  kernel: string,
  r: ReverseRangeBase,
  at: number,
  read: Record<string, Tensor>,
  written: Record<string, Tensor>,
): void {
  const where = `${kernel} range ${at}`;
  const n = r.params.size;
  const segment = { grads: r.grads, thetaBar: r.thetaBar, gBar: r.gBar, ...read, ...written };
  for (const [name, t] of Object.entries(segment)) {
    if (t.size !== n || !t.isContiguous) {
      throw new RangeError(`${where}: ${name} [${t.shape}] must be contiguous with ${n} elements`);
    }
  }
  for (const [name, t] of Object.entries({ normSq: r.normSq, gDotGBarTilde: r.gDotGBarTilde })) {
    if (t.size !== 1) throw new RangeError(`${where}: ${name} [${t.shape}] must hold one element`);
  }
  if (!Number.isInteger(r.decayEnd) || r.decayEnd < 0 || r.decayEnd > n) {
    throw new RangeError(`${where}: decayEnd ${r.decayEnd} must be in [0, ${n}]`);
  }
  // WebGPU forbids a buffer bound both read-only and read-write in one dispatch.
  const outputs = [r.thetaBar, r.gBar, ...Object.values(written)];
  for (const [name, t] of Object.entries({ grads: r.grads, normSq: r.normSq, ...read })) {
    if (outputs.some((w) => w.buffer === t.buffer)) {
      throw new RangeError(`${where}: ${name} must not share a buffer with a cotangent`);
    }
  }
  // The dot writes it while reading grads and gBar.
  if (r.gDotGBarTilde.buffer === r.gBar.buffer || r.gDotGBarTilde.buffer === r.grads.buffer) {
    throw new RangeError(`${where}: gDotGBarTilde must not share a buffer with gBar or grads`);
  }
}

function checkShared(kernel: string, ranges: readonly ReverseRangeBase[]): void {
  const first = ranges[0];
  const differs = (r: ReverseRangeBase) =>
    r.maxNorm !== first.maxNorm || r.gDotGBarTilde.buffer !== first.gDotGBarTilde.buffer ||
    r.gDotGBarTilde.offset !== first.gDotGBarTilde.offset;
  if (ranges.some(differs)) {
    throw new RangeError(`${kernel}: every range must share maxNorm and gDotGBarTilde`);
  }
}

/**
 * Reverses one AdamW update over every parameter segment: writes θ̄, m̄, v̄ in place of θ̄', m̄',
 * v̄' and ḡ into gBar. With clipping on, ḡ needs gᵀ·ḡ̃ over all segments: pass 1 writes ḡ̃, a
 * deterministic dot (per segment, then a fixed-order sum) fills gDotGBarTilde, and pass 2 applies
 * the clipping's Jacobian in place where the GPU's own coef (from normSq) is below 1.
 */
export async function adamwReverse(
  rt: GpuRuntime,
  ranges: readonly AdamwReverseRange[],
  hp: AdamwReverseHyper,
): Promise<void> {
  if (ranges.length === 0) return;
  if (!Number.isInteger(hp.step) || hp.step < 1) {
    throw new RangeError(`adamwReverse: step ${hp.step} must be a positive integer`);
  }
  ranges.forEach((r, i) =>
    check("adamwReverse", r, i, { m: r.m, v: r.v }, { mBar: r.mBar, vBar: r.vBar })
  );
  checkShared("adamwReverse", ranges);
  const c1 = 1 - hp.beta1 ** hp.step, c2 = 1 - hp.beta2 ** hp.step;
  for (const r of ranges) {
    const n = r.params.size;
    await rt.dispatch({
      pipeline: { shader: "gpt2_optimizer_reverse", entryPoint: "adamw_reverse", defines: { WG } },
      params: {
        u: [
          n,
          r.decayEnd,
          r.grads.offset,
          r.normSq.offset,
          r.gBar.offset,
          r.m.offset,
          r.v.offset,
          r.thetaBar.offset,
          r.mBar.offset,
          r.vBar.offset,
        ],
        f: [hp.lr, hp.beta1, hp.beta2, hp.eps, hp.epsRoot, hp.weightDecay, c1, c2, r.maxNorm],
      },
      bindings: [r.grads, r.normSq, r.gBar, r.m, r.v, r.thetaBar, r.mBar, r.vBar],
      workgroups: grid1d(n, WG),
    });
  }
  await pullBackClipping(rt, ranges);
}

/** Reverses one SGD-with-momentum update: θ̄, b̄ in place of θ̄', b̄', and ḡ into gBar. */
export async function sgdReverse(
  rt: GpuRuntime,
  ranges: readonly SgdReverseRange[],
  hp: SgdReverseHyper,
): Promise<void> {
  if (ranges.length === 0) return;
  ranges.forEach((r, i) => check("sgdReverse", r, i, {}, { bufBar: r.bufBar }));
  checkShared("sgdReverse", ranges);
  for (const r of ranges) {
    const n = r.params.size;
    await rt.dispatch({
      pipeline: { shader: "gpt2_optimizer_reverse", entryPoint: "sgd_reverse", defines: { WG } },
      params: {
        u: [n, r.decayEnd, r.thetaBar.offset, r.bufBar.offset, r.gBar.offset],
        f: [hp.lr, hp.momentum, hp.weightDecay],
      },
      bindings: [r.thetaBar, r.bufBar, r.gBar],
      workgroups: grid1d(n, WG),
    });
  }
  await pullBackClipping(rt, ranges);
}

/** ḡ̃ → ḡ in every range's gBar (pass 2), after the global gᵀ·ḡ̃; nothing without clipping. */
async function pullBackClipping(rt: GpuRuntime, ranges: readonly ReverseRangeBase[]) {
  const first = ranges[0];
  if (!(first.maxNorm > 0)) return;
  const total = first.gDotGBarTilde.reshape([1]);
  const flat = (t: Tensor) => t.reshape([t.size]);
  if (ranges.length === 1) {
    await dot(rt, flat(first.grads), flat(first.gBar), total);
  } else {
    // One partial per segment, summed in segment order (as Gpt2Model sums the gradient norm).
    const parts = rt.zeros([ranges.length]);
    for (const [i, r] of ranges.entries()) {
      await dot(rt, flat(r.grads), flat(r.gBar), parts.view([1], undefined, parts.offset + i));
    }
    await colSum(rt, parts.reshape([ranges.length, 1]), total);
    parts.dispose();
  }
  for (const r of ranges) {
    const n = r.params.size;
    await rt.dispatch({
      pipeline: { shader: "gpt2_optimizer_reverse", entryPoint: "clip_reverse", defines: { WG } },
      params: {
        u: [n, r.grads.offset, r.normSq.offset, r.gBar.offset, total.offset],
        f: [r.maxNorm],
      },
      bindings: [r.grads, r.normSq, r.gBar, total],
      workgroups: grid1d(n, WG),
    });
  }
}
