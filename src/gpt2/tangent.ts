// The tangent pass of GPT-2 (forward-over-reverse): along a direction v in parameter space, the
// directional derivative of every forward and backward quantity of the last batch. It gives
//   - lossDot [N]: the tangent of each position's cross-entropy, ⟨∇ce_r, v⟩, and
//   - H·v: the tangent of the parameter gradient, i.e. the exact Hessian–vector product of the
//     batch objective Σ_r weights_r·ce_r (MATH.md §7), in the gradients' layout.
// It runs after the model's own forward and backward of the same batch
// (Gpt2Model.recordGradientsForTangent, then recordTangent), whose
// activations and kept cotangents (Workspace.keepCotangents) it reads. Each primal op has its
// tangent beside it: matmuls by the product rule (two matmuls), GELU's forward tangent is its
// backward kernel, LayerNorm, attention and the cross-entropy have tangent kernels of their own
// (kernels/*_tangent.ts), the embedding is linear. Models in one parameter buffer, one logits
// chunk and one vocabulary block only (the small models metagradients are for).
import { colSum } from "../gpu/kernels/reduce.ts";
import { fill } from "../gpu/kernels/fill.ts";
import { geluBackward, geluBackwardTangent } from "../gpu/kernels/elementwise.ts";
import { matmul } from "../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { DomainError } from "../errors.ts";
import type { PreparedBatch } from "./batch.ts";
import type { Dims } from "./config.ts";
import { attentionTangentBackward, attentionTangentForward } from "./kernels/attention_tangent.ts";
import { crossEntropyTangent } from "./kernels/cross_entropy_tangent.ts";
import { embeddingBackward, embeddingForward, tokenGroups } from "./kernels/embedding.ts";
import {
  layerNormTangentBackwardInput,
  layerNormTangentBackwardParams,
  layerNormTangentForward,
} from "./kernels/layernorm_tangent.ts";
import { accumulatedRanges, type ParamLayout } from "./layout.ts";
import type { Workspace } from "./workspace.ts";

/** A model the tangent pass cannot take (several buffers, logits chunks or vocabulary blocks). */
export class TangentUnsupportedError extends DomainError {
  override name = "TangentUnsupportedError";
  constructor(reason: string) {
    super(
      "invalid",
      "model_too_large_for_metagradients",
      `Hessian–vector products need the model in one GPU buffer: ${reason}`,
      { reason },
    );
  }
}

/** What the tangent pass reads of the model after its forward and backward of `batch`. */
export interface TangentModel {
  dims: Dims;
  layout: ParamLayout;
  ws: Workspace;
  batch: PreparedBatch;
  /** The one parameter buffer. */
  params: Tensor;
  /** A named parameter (a view of the one parameter buffer). */
  param(name: string): Tensor;
}

interface LayerTangents {
  x: Tensor; // residual entering the layer [N, d]
  ln1: Tensor;
  qkv: Tensor; // [N, 3d]
  y: Tensor;
  probs: Tensor; // [B, H, T, T]
  xMid: Tensor;
  ln2: Tensor;
  fc: Tensor; // [N, f]
  g: Tensor; // [N, f]
}

/** The tangents of one batch shape's activations and of the backward's cotangents. */
export class TangentWorkspace {
  private readonly tensors: Tensor[] = [];
  readonly layers: LayerTangents[] = [];
  readonly xFinal: Tensor;
  readonly lnf: Tensor;
  readonly logits: Tensor;
  readonly lossDot: Tensor;
  readonly dlogits: Tensor;
  readonly dlnf: Tensor;
  /** dres[l]: tangent of the residual stream's cotangent entering layer l (L: ln_f's input). */
  readonly dres: Tensor[] = [];
  // Backward tangents of one layer at a time (reused down the layers).
  readonly dg: Tensor;
  readonly dfc: Tensor;
  readonly dln2: Tensor;
  readonly dMid: Tensor;
  readonly dy: Tensor;
  readonly dqkv: Tensor;
  readonly dln1: Tensor;
  readonly dscores: Tensor;

  constructor(rt: GpuRuntime, readonly B: number, readonly T: number, D: Dims, vocabRows: number) {
    const N = B * T;
    const z = (shape: number[]) => {
      const t = rt.zeros(shape);
      this.tensors.push(t);
      return t;
    };
    for (let l = 0; l < D.L; l++) {
      this.layers.push({
        x: z([N, D.d]),
        ln1: z([N, D.d]),
        qkv: z([N, 3 * D.d]),
        y: z([N, D.d]),
        probs: z([B, D.H, T, T]),
        xMid: z([N, D.d]),
        ln2: z([N, D.d]),
        fc: z([N, D.f]),
        g: z([N, D.f]),
      });
      this.dres.push(z([N, D.d]));
    }
    this.dres.push(z([N, D.d]));
    this.xFinal = z([N, D.d]);
    this.lnf = z([N, D.d]);
    this.logits = z([N, vocabRows]);
    this.lossDot = z([N]);
    this.dlogits = z([N, vocabRows]);
    this.dlnf = z([N, D.d]);
    this.dg = z([N, D.f]);
    this.dfc = z([N, D.f]);
    this.dln2 = z([N, D.d]);
    this.dMid = z([N, D.d]);
    this.dy = z([N, D.d]);
    this.dqkv = z([N, 3 * D.d]);
    this.dln1 = z([N, D.d]);
    this.dscores = z([B, D.H, T, T]);
  }

  residual(l: number): Tensor {
    return l < this.layers.length ? this.layers[l].x : this.xFinal;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
  }
}

/** Throws TangentUnsupportedError unless the model is one buffer, one block and one chunk. */
export function checkTangentSupported(
  layout: ParamLayout,
  ws: Pick<Workspace, "chunks"> | null,
): void {
  if (layout.segments.length !== 1) {
    throw new TangentUnsupportedError(`its parameters span ${layout.segments.length} buffers`);
  }
  if (layout.vocabBlocks.length !== 1) {
    throw new TangentUnsupportedError(`wte is split into ${layout.vocabBlocks.length} blocks`);
  }
  if (ws && ws.chunks.length !== 1) {
    throw new TangentUnsupportedError(`the logits are split into ${ws.chunks.length} chunks`);
  }
}

/**
 * Records the tangent pass along `direction` (the parameters' layout): H·direction into `hv`
 * (the gradients' layout, overwritten) and the per-position loss tangents into tws.lossDot.
 */
export async function recordTangent(
  rt: GpuRuntime,
  m: TangentModel,
  tws: TangentWorkspace,
  direction: Tensor,
  hv: Tensor,
): Promise<void> {
  const { ws, batch, layout } = m;
  checkTangentSupported(layout, ws);
  const kept = ws.kept;
  if (!kept) throw new Error("recordTangent: the backward did not keep its cotangents");
  const { L, H, hs, d, V } = m.dims;
  const { B, T } = batch;
  const shape = { B, T, H, hs };
  const view = (buffer: Tensor, name: string) => {
    const slot = layout.byName.get(name)!;
    return buffer.view(slot.shape, undefined, slot.offset);
  };
  const p = (name: string) => m.param(name);
  const v = (name: string) => view(direction, name);
  const out = (name: string) => view(hv, name);
  const block = layout.vocabBlocks[0];
  const rowsOf = (buffer: Tensor) => buffer.view([block.rows, d], undefined, block.offset);

  /** yDot = xDot·W + x·Ẇ + ḃ for a linear layer y = x·W + b. */
  const linearTangent = async (prefix: string, x: Tensor, xDot: Tensor, yDot: Tensor) => {
    await matmul(rt, xDot, p(`${prefix}.weight`), yDot, { bias: v(`${prefix}.bias`) });
    await matmul(rt, x, v(`${prefix}.weight`), yDot, { accumulate: true });
  };
  /**
   * The tangents of a linear layer's backward (dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ dy): dxDot (when
   * given) and the layer's share of H·v.
   */
  const linearBackwardTangent = async (
    prefix: string,
    x: Tensor,
    xDot: Tensor,
    dy: Tensor,
    dyDot: Tensor,
    dxDot: Tensor | null,
  ) => {
    await matmul(rt, xDot.transposeView(), dy, out(`${prefix}.weight`));
    await matmul(rt, x.transposeView(), dyDot, out(`${prefix}.weight`), { accumulate: true });
    await colSum(rt, dyDot, out(`${prefix}.bias`), { rowsPerBlock: Math.max(B * T, 1) });
    if (dxDot) {
      await matmul(rt, dyDot, p(`${prefix}.weight`).transposeView(), dxDot);
      await matmul(rt, dy, v(`${prefix}.weight`).transposeView(), dxDot, { accumulate: true });
    }
  };

  // ---- tangent forward ----
  await embeddingForward(
    rt,
    ws.tokens,
    [{ weight: rowsOf(direction), start: 0 }],
    v("wpe.weight"),
    T,
    tws.residual(0),
  );
  for (let l = 0; l < L; l++) {
    const a = ws.layers[l], t = tws.layers[l];
    const h = (name: string) => `h.${l}.${name}`;
    await layerNormTangentForward(
      rt,
      a.x,
      p(h("ln_1.weight")),
      a.ln1Stats,
      t.x,
      v(h("ln_1.weight")),
      v(h("ln_1.bias")),
      t.ln1,
    );
    await linearTangent(h("attn.c_attn"), a.ln1, t.ln1, t.qkv);
    await attentionTangentForward(rt, shape, a.qkv, t.qkv, ws.keyMask, a.probs, t.y, t.probs);
    rt.copy(t.x, t.xMid);
    await matmul(rt, t.y, p(h("attn.c_proj.weight")), t.xMid, {
      bias: v(h("attn.c_proj.bias")),
      accumulate: true,
    });
    await matmul(rt, a.y, v(h("attn.c_proj.weight")), t.xMid, { accumulate: true });
    await layerNormTangentForward(
      rt,
      a.xMid,
      p(h("ln_2.weight")),
      a.ln2Stats,
      t.xMid,
      v(h("ln_2.weight")),
      v(h("ln_2.bias")),
      t.ln2,
    );
    await linearTangent(h("mlp.c_fc"), a.ln2, t.ln2, t.fc);
    await geluBackward(rt, a.fc, t.fc, t.g); // ġ = gelu'(fc)·ḟc
    const next = tws.residual(l + 1);
    rt.copy(t.xMid, next);
    await matmul(rt, t.g, p(h("mlp.c_proj.weight")), next, {
      bias: v(h("mlp.c_proj.bias")),
      accumulate: true,
    });
    await matmul(rt, a.g, v(h("mlp.c_proj.weight")), next, { accumulate: true });
  }
  await layerNormTangentForward(
    rt,
    ws.xFinal,
    p("ln_f.weight"),
    ws.lnfStats,
    tws.xFinal,
    v("ln_f.weight"),
    v("ln_f.bias"),
    tws.lnf,
  );
  // Tied head: logits = ln_f·wteᵀ.
  const wteRows = rowsOf(m.params);
  await matmul(rt, tws.lnf, wteRows.transposeView(), tws.logits);
  await matmul(rt, ws.lnf, rowsOf(direction).transposeView(), tws.logits, { accumulate: true });
  await crossEntropyTangent(
    rt,
    ws.logits[0],
    tws.logits,
    ws.targets,
    ws.weights,
    tws.lossDot,
    tws.dlogits,
    V,
  );

  // ---- tangent backward: H·v ----
  for (const view of accumulatedRanges(layout, [hv])) await fill(rt, view, 0);
  // dln_f = dlogits·wte; dwte = dlogitsᵀ·ln_f (the embedding adds its part below).
  await matmul(rt, tws.dlogits, wteRows, tws.dlnf);
  await matmul(rt, ws.dlogits[0], rowsOf(direction), tws.dlnf, { accumulate: true });
  await matmul(rt, tws.dlogits.transposeView(), ws.lnf, rowsOf(hv));
  await matmul(rt, ws.dlogits[0].transposeView(), tws.lnf, rowsOf(hv), { accumulate: true });
  await layerNormTangentBackwardInput(
    rt,
    ws.xFinal,
    p("ln_f.weight"),
    ws.lnfStats,
    kept.dlnf,
    tws.xFinal,
    v("ln_f.weight"),
    tws.dlnf,
    null,
    tws.dres[L],
  );
  await layerNormTangentBackwardParams(
    rt,
    ws.xFinal,
    ws.lnfStats,
    kept.dlnf,
    tws.xFinal,
    tws.dlnf,
    out("ln_f.weight"),
    out("ln_f.bias"),
  );
  for (let l = L - 1; l >= 0; l--) {
    const a = ws.layers[l], t = tws.layers[l];
    const h = (name: string) => `h.${l}.${name}`;
    const dOut = ws.dres[l + 1], dOutDot = tws.dres[l + 1];
    await linearBackwardTangent(h("mlp.c_proj"), a.g, t.g, dOut, dOutDot, tws.dg);
    await geluBackwardTangent(rt, a.fc, t.fc, kept.dg[l], tws.dg, tws.dfc);
    await linearBackwardTangent(h("mlp.c_fc"), a.ln2, t.ln2, a.dfc, tws.dfc, tws.dln2);
    await layerNormTangentBackwardInput(
      rt,
      a.xMid,
      p(h("ln_2.weight")),
      a.ln2Stats,
      kept.dln2[l],
      t.xMid,
      v(h("ln_2.weight")),
      tws.dln2,
      dOutDot,
      tws.dMid,
    );
    await layerNormTangentBackwardParams(
      rt,
      a.xMid,
      a.ln2Stats,
      kept.dln2[l],
      t.xMid,
      tws.dln2,
      out(h("ln_2.weight")),
      out(h("ln_2.bias")),
    );
    await linearBackwardTangent(h("attn.c_proj"), a.y, t.y, a.dMid, tws.dMid, tws.dy);
    await attentionTangentBackward(
      rt,
      shape,
      a.qkv,
      t.qkv,
      a.probs,
      t.probs,
      kept.dy[l],
      tws.dy,
      tws.dscores,
      tws.dqkv,
    );
    await linearBackwardTangent(h("attn.c_attn"), a.ln1, t.ln1, a.dqkv, tws.dqkv, tws.dln1);
    await layerNormTangentBackwardInput(
      rt,
      a.x,
      p(h("ln_1.weight")),
      a.ln1Stats,
      kept.dln1[l],
      t.x,
      v(h("ln_1.weight")),
      tws.dln1,
      tws.dMid,
      tws.dres[l],
    );
    await layerNormTangentBackwardParams(
      rt,
      a.x,
      a.ln1Stats,
      kept.dln1[l],
      t.x,
      tws.dln1,
      out(h("ln_1.weight")),
      out(h("ln_1.bias")),
    );
  }
  const groups = tokenGroups(batch.tokens);
  rt.write(ws.groups.view([groups.data.length]), groups.data);
  await embeddingBackward(
    rt,
    ws.groups,
    groups.data.subarray(0, groups.distinct),
    B,
    T,
    tws.dres[0],
    [{ weight: rowsOf(hv), start: 0 }],
    out("wpe.weight"),
  );
}
