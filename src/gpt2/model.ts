// The GPT-2 model on the GPU: forward (per-example losses), backward (every parameter gradient)
// and a training step, built from matmul (src/gpu/kernels/matmul.ts), the elementwise GELU, the
// column-sum reduction and the model's own kernels (src/model/kernels.ts).
//
// Parameters, gradients and optimiser state are flat buffers in one layout (src/model/layout.ts);
// each named parameter is a view. A model larger than one storage binding (GPT-2-124M on a
// 128 MiB limit) has several such buffers (segments), wte in vocabulary blocks and the logits
// in column chunks; small models have one of each. Activations are [N, ·] with N = B·T rows (row = b·T + t) and
// stay on the GPU until the next batch, together with the backward's per-layer gradients, so
// that for every linear layer both its input a_t and the gradient at its output s_t can be read
// per token (`linearTaps()`), which is what gradient projection, TracIn and EK-FAC build on.
import { colSum } from "../gpu/kernels/reduce.ts";
import { dot } from "../gpu/kernels/reduce.ts";
import { fill } from "../gpu/kernels/fill.ts";
import { gelu, geluBackward } from "../gpu/kernels/elementwise.ts";
import { matmul } from "../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { type Batch, exampleLosses, prepareBatch, type PreparedBatch } from "./batch.ts";
import { type Dims, dimsOf, type Gpt2Config } from "./config.ts";
import { attentionBackward, attentionForward } from "./kernels/attention.ts";
import {
  crossEntropyChunked,
  crossEntropyForward,
  crossEntropyForwardBackward,
} from "./kernels/cross_entropy.ts";
import {
  embeddingBackward,
  embeddingForward,
  tokenGroups,
  type VocabRows,
} from "./kernels/embedding.ts";
import {
  layerNormBackwardInput,
  layerNormBackwardParams,
  layerNormForward,
} from "./kernels/layernorm.ts";
import {
  maxSegmentElements,
  packParams,
  type ParamLayout,
  paramLayout,
  unpackParams,
} from "./layout.ts";
import { GpuOptimizer, type OptimizerConfigInput } from "./optimizer.ts";
import type { ParamSet } from "./params.ts";

/** One linear (Conv1D) layer's per-token quantities after `computeGradients` / `trainStep`. */
export interface LinearTap {
  /** HF module name, e.g. "h.0.mlp.c_fc". */
  name: string;
  layer: number;
  module: "attn.c_attn" | "attn.c_proj" | "mlp.c_fc" | "mlp.c_proj";
  /** a_t: the layer's input [B, T, d_in] (the bias's appended 1 is implicit). */
  input: Tensor;
  /** s_t: gradient of the weighted objective w.r.t. the layer's output [B, T, d_out]. */
  outputGrad: Tensor;
  /** The weight [d_in, d_out] and bias [d_out] (views of the parameter buffer). */
  weight: Tensor;
  bias: Tensor;
}

export interface LossResult {
  /** Mean token cross-entropy of each example's counted tokens (0 if it has none). */
  perExample: number[];
  /** Mean of perExample over the examples with counted tokens. */
  loss: number;
  /** Cross-entropy at every position [B·T] (position t predicts token t + 1). */
  tokenLoss: Float32Array;
}

export interface StepResult extends LossResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

/** A result recorded on the GPU, available once the tensor it was copied into is read back. */
export interface Deferred<R> {
  /** Elements the recorded call writes into its destination. */
  size: number;
  /** The result, from the destination's whole contents as read back. */
  resolve(values: Float32Array): R;
}

function lossResult(prepared: PreparedBatch, tokenLoss: Float32Array): LossResult {
  return { ...exampleLosses(prepared, tokenLoss), tokenLoss };
}

interface LayerActivations {
  x: Tensor; // residual stream entering the layer [N, d]
  ln1: Tensor;
  ln1Stats: Tensor;
  qkv: Tensor; // [N, 3d]
  probs: Tensor; // [B, H, T, T]
  y: Tensor; // attention output before c_proj [N, d]
  xMid: Tensor; // residual after attention [N, d]
  ln2: Tensor;
  ln2Stats: Tensor;
  fc: Tensor; // MLP pre-activation [N, f]
  g: Tensor; // GELU output [N, f]
  // Gradients (s_t of the layer's linear modules).
  dqkv: Tensor;
  dMid: Tensor;
  dfc: Tensor;
}

/**
 * A range of the tied head's vocabulary: wte rows [colStart, colStart + rows), held in vocabulary
 * block `block` from its row `rowInBlock`; logits column chunk of the same columns.
 */
interface HeadChunk {
  block: number;
  rowInBlock: number;
  rows: number;
  colStart: number;
}

/** Column chunks of the logits for N rows: each within one vocabulary block and one binding. */
function headChunks(layout: ParamLayout, N: number, maxElements: number): HeadChunk[] {
  const maxRows = Math.max(4, Math.floor(maxElements / Math.max(N, 1) / 4) * 4);
  const chunks: HeadChunk[] = [];
  layout.vocabBlocks.forEach((b, block) => {
    for (let at = 0; at < b.rows; at += maxRows) {
      chunks.push({
        block,
        rowInBlock: at,
        rows: Math.min(maxRows, b.rows - at),
        colStart: b.start + at,
      });
    }
  });
  return chunks;
}

/** Every buffer a batch shape needs; rebuilt when B or T changes. */
/** A batch whose activations (attention probabilities, MLP hidden) exceed one buffer binding. */
export class BatchTooLargeError extends RangeError {
  override name = "BatchTooLargeError";
  readonly httpStatus = 400;
  readonly code = "batch_too_large_for_device";
  readonly details: {
    batchSize: number;
    tokens: number;
    elements: number;
    maxBindableElements: number;
  };
  constructor(B: number, T: number, elements: number, maxBindableElements: number) {
    super(
      `a batch of ${B} sequences of ${T} tokens needs an activation of ${elements} elements, more ` +
        `than this GPU can bind (${maxBindableElements}); use a smaller batch or shorter texts`,
    );
    this.details = { batchSize: B, tokens: T, elements, maxBindableElements };
  }
}

class Workspace {
  readonly tensors: Tensor[] = [];
  readonly tokens: Tensor;
  readonly targets: Tensor;
  readonly keyMask: Tensor;
  readonly weights: Tensor;
  readonly groups: Tensor;
  readonly layers: LayerActivations[] = [];
  readonly xFinal: Tensor;
  readonly lnf: Tensor;
  readonly lnfStats: Tensor;
  /** Logits in column chunks [N, rows] (one chunk [N, paddedVocab] unless the vocabulary is split). */
  readonly logits: Tensor[];
  readonly tokenLoss: Tensor;
  readonly dlogits: Tensor[];
  /** Cross-entropy sweep state [3N] carried across chunks (unused with one chunk). */
  readonly ceStats: Tensor;
  /** dres[l]: gradient w.r.t. the residual stream entering layer l; dres[L] at ln_f's input. */
  readonly dres: Tensor[] = [];
  readonly scratch: Tensor; // [N, d]
  readonly dscores: Tensor; // [B, H, T, T]

  constructor(
    rt: GpuRuntime,
    readonly B: number,
    readonly T: number,
    D: Dims,
    readonly chunks: readonly HeadChunk[],
  ) {
    const N = B * T;
    const z = (shape: number[]) => {
      const t = rt.zeros(shape);
      this.tensors.push(t);
      return t;
    };
    this.tokens = z([N]);
    this.targets = z([N]);
    this.keyMask = z([N]);
    this.weights = z([N]);
    this.groups = z([3 * N + 1]); // ids, starts, rows: at most N + (N + 1) + N
    for (let l = 0; l < D.L; l++) {
      this.layers.push({
        x: z([N, D.d]),
        ln1: z([N, D.d]),
        ln1Stats: z([2 * N]),
        qkv: z([N, 3 * D.d]),
        probs: z([B, D.H, T, T]),
        y: z([N, D.d]),
        xMid: z([N, D.d]),
        ln2: z([N, D.d]),
        ln2Stats: z([2 * N]),
        fc: z([N, D.f]),
        g: z([N, D.f]),
        dqkv: z([N, 3 * D.d]),
        dMid: z([N, D.d]),
        dfc: z([N, D.f]),
      });
      this.dres.push(z([N, D.d]));
    }
    this.dres.push(z([N, D.d]));
    this.xFinal = z([N, D.d]);
    this.lnf = z([N, D.d]);
    this.lnfStats = z([2 * N]);
    this.logits = chunks.map((c) => z([N, c.rows]));
    this.tokenLoss = z([N]);
    this.dlogits = chunks.map((c) => z([N, c.rows]));
    this.ceStats = z([chunks.length > 1 ? 3 * N : 1]);
    this.scratch = z([N, D.d]);
    this.dscores = z([B, D.H, T, T]);
  }

  /** The residual stream entering layer l (l = L: entering ln_f). */
  residual(l: number): Tensor {
    return l < this.layers.length ? this.layers[l].x : this.xFinal;
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
  }
}

export class Gpt2Model {
  readonly dims: Dims;
  private ws: Workspace | null = null;
  private last: PreparedBatch | null = null;
  private hasGradients = false;

  private constructor(
    private readonly rt: GpuRuntime,
    readonly config: Gpt2Config,
    readonly layout: ParamLayout,
    /** Parameters and gradients, one buffer per layout segment. */
    readonly paramSegments: Tensor[],
    readonly gradSegments: Tensor[],
    /** Σ grad² ([1]) and, with several segments, each segment's share ([S]). */
    private readonly normSq: Tensor,
    private readonly normParts: Tensor | null,
    /** The largest tensor (elements) a kernel may bind: sizes segments and logits chunks. */
    private readonly maxElements: number,
  ) {
    this.dims = dimsOf(config);
  }

  /**
   * `maxBindingElements` lowers the binding limit the model plans for (default: the device's
   * maxStorageBufferBindingSize), so that tests can take the split paths on small models.
   */
  static create(
    rt: GpuRuntime,
    set: ParamSet,
    options: { maxBindingElements?: number } = {},
  ): Gpt2Model {
    const maxElements = Math.min(
      options.maxBindingElements ?? Infinity,
      maxSegmentElements(rt.device.limits),
    );
    const layout = paramLayout(set.config, maxElements);
    const packed = packParams(layout, set.values);
    const S = layout.segments.length;
    return new Gpt2Model(
      rt,
      set.config,
      layout,
      packed.map((flat) => rt.tensor(flat)),
      layout.segments.map((segment) => rt.zeros([segment.size])),
      rt.zeros([1]),
      S > 1 ? rt.zeros([S]) : null,
      maxElements,
    );
  }

  /** The flat parameter buffer of a single-segment model (the usual case below ~30M parameters). */
  get params(): Tensor {
    return this.onlySegment(this.paramSegments);
  }

  /** The flat gradient buffer of a single-segment model. */
  get grads(): Tensor {
    return this.onlySegment(this.gradSegments);
  }

  private onlySegment(segments: Tensor[]): Tensor {
    if (segments.length !== 1) {
      throw new Error(`the parameters span ${segments.length} buffers: use paramSegments`);
    }
    return segments[0];
  }

  /** A named parameter as a view of its segment (wte only while it is one block). */
  param(name: string): Tensor {
    return this.slotView(this.paramSegments, name);
  }

  /** A named parameter's gradient (valid after computeGradients / trainStep). */
  grad(name: string): Tensor {
    return this.slotView(this.gradSegments, name);
  }

  private slotView(segments: Tensor[], name: string): Tensor {
    const slot = this.layout.byName.get(name);
    if (!slot) throw new RangeError(`no parameter named ${name}`);
    if (name === "wte.weight" && this.layout.vocabBlocks.length > 1) {
      throw new RangeError(`wte.weight is split into ${this.layout.vocabBlocks.length} blocks`);
    }
    return segments[slot.segment].view(slot.shape, undefined, slot.offset);
  }

  /** Replaces every parameter (same config). */
  setParams(set: ParamSet): void {
    packParams(this.layout, set.values).forEach((flat, i) =>
      this.rt.write(this.paramSegments[i], flat)
    );
  }

  async readParams(): Promise<ParamSet> {
    const flats = await this.rt.read(this.paramSegments);
    return { config: this.config, values: unpackParams(this.layout, flats) };
  }

  async readGrads(): Promise<Map<string, Float32Array>> {
    if (!this.hasGradients) throw new Error("no gradients yet: run computeGradients or trainStep");
    return unpackParams(this.layout, await this.rt.read(this.gradSegments));
  }

  /**
   * Logits of the last batch, [B·T, paddedVocab] on the GPU: columns from vocab_size on belong
   * to wte's zero padding rows and are ignored by the loss.
   */
  logits(): Tensor {
    if (!this.ws || !this.last) throw new Error("no batch has been run yet");
    if (this.ws.logits.length !== 1) {
      throw new Error(`the logits are split into ${this.ws.logits.length} column chunks`);
    }
    return this.ws.logits[0];
  }

  /** The last batch's logits as [B·T, vocab_size] row-major, padding columns dropped. */
  async readLogits(): Promise<Float32Array> {
    if (!this.ws || !this.last) throw new Error("no batch has been run yet");
    const parts = await this.rt.read(this.ws.logits);
    const { V } = this.dims;
    const rows = this.ws.B * this.ws.T;
    const out = new Float32Array(rows * V);
    this.ws.chunks.forEach((chunk, k) => {
      const cols = Math.max(0, Math.min(chunk.rows, V - chunk.colStart));
      for (let r = 0; r < rows && cols > 0; r++) {
        out.set(parts[k].subarray(r * chunk.rows, r * chunk.rows + cols), r * V + chunk.colStart);
      }
    });
    return out;
  }

  /** wte's rows (padding included) of a head chunk, [rows, d], in parameters or gradients. */
  private headRows(segments: Tensor[], chunk: HeadChunk): Tensor {
    const block = this.layout.vocabBlocks[chunk.block];
    const d = this.dims.d;
    return segments[block.segment].view(
      [chunk.rows, d],
      undefined,
      block.offset + chunk.rowInBlock * d,
    );
  }

  /**
   * The gradients the backward adds into (layer-norm parameters, in the non-decayed group, and
   * wpe), which must start at zero. The rest is overwritten (matmul and column-sum outputs; wte
   * by the head before the embedding adds to it), and zeroing all of GPT-2-124M's gradients
   * costs ~5% of its fwd+bwd on llvmpipe.
   */
  private accumulatedGrads(): Tensor[] {
    const plain = this.layout.slots.filter((s) => !s.decay);
    const first = plain[0], last = plain[plain.length - 1];
    const wpe = this.layout.byName.get("wpe.weight")!;
    const range = (segment: number, from: number, to: number) =>
      this.gradSegments[segment].view([to - from], undefined, from);
    return [
      range(first.segment, first.offset, last.offset + last.reserved),
      range(wpe.segment, wpe.offset, wpe.offset + wpe.reserved),
    ];
  }

  /** wte's vocabulary blocks (the embedding kernels' view of it). */
  private vocabRows(segments: Tensor[]): VocabRows[] {
    const d = this.dims.d;
    return this.layout.vocabBlocks.map((b) => ({
      weight: segments[b.segment].view([b.rows, d], undefined, b.offset),
      start: b.start,
    }));
  }

  private workspace(B: number, T: number): Workspace {
    if (!this.ws || this.ws.B !== B || this.ws.T !== T) {
      const { H, d, f } = this.dims;
      // Activations are bound whole, against the device's own limit (maxElements may be lowered
      // by tests to split the parameters).
      const bindable = maxSegmentElements(this.rt.device.limits);
      const largest = Math.max(B * H * T * T, B * T * 3 * d, B * T * f);
      if (largest > bindable) throw new BatchTooLargeError(B, T, largest, bindable);
      this.ws?.dispose();
      const chunks = headChunks(this.layout, B * T, this.maxElements);
      this.ws = new Workspace(this.rt, B, T, this.dims, chunks);
    }
    return this.ws;
  }

  // ---- forward --------------------------------------------------------------------------------

  private async recordForward(batch: PreparedBatch, gradWeights: Float32Array<ArrayBuffer> | null) {
    const rt = this.rt;
    const { L, H, hs, eps } = this.dims;
    const { B, T } = batch;
    const ws = this.workspace(B, T);
    this.last = batch;
    this.hasGradients = false;
    rt.write(ws.tokens, batch.tokens);
    rt.write(ws.targets, batch.targets);
    rt.write(ws.keyMask, batch.keyMask);
    const p = (name: string) => this.param(name);
    const wte = this.vocabRows(this.paramSegments);
    await embeddingForward(rt, ws.tokens, wte, p("wpe.weight"), T, ws.residual(0));
    for (let l = 0; l < L; l++) {
      const a = ws.layers[l];
      const h = (name: string) => p(`h.${l}.${name}`);
      await layerNormForward(rt, a.x, h("ln_1.weight"), h("ln_1.bias"), eps, a.ln1, a.ln1Stats);
      await matmul(rt, a.ln1, h("attn.c_attn.weight"), a.qkv, { bias: h("attn.c_attn.bias") });
      await attentionForward(rt, { B, T, H, hs }, a.qkv, ws.keyMask, a.y, a.probs);
      // Residual adds ride on matmul's accumulate: out = x, then out += y·W + b.
      rt.copy(a.x, a.xMid);
      await matmul(rt, a.y, h("attn.c_proj.weight"), a.xMid, {
        bias: h("attn.c_proj.bias"),
        accumulate: true,
      });
      await layerNormForward(rt, a.xMid, h("ln_2.weight"), h("ln_2.bias"), eps, a.ln2, a.ln2Stats);
      await matmul(rt, a.ln2, h("mlp.c_fc.weight"), a.fc, { bias: h("mlp.c_fc.bias") });
      await gelu(rt, a.fc, a.g);
      const next = ws.residual(l + 1);
      rt.copy(a.xMid, next);
      await matmul(rt, a.g, h("mlp.c_proj.weight"), next, {
        bias: h("mlp.c_proj.bias"),
        accumulate: true,
      });
    }
    await layerNormForward(
      rt,
      ws.xFinal,
      p("ln_f.weight"),
      p("ln_f.bias"),
      eps,
      ws.lnf,
      ws.lnfStats,
    );
    // Tied head: logits = ln_f(x)·wteᵀ, chunk by chunk when the vocabulary is split.
    for (const [k, chunk] of ws.chunks.entries()) {
      await matmul(
        rt,
        ws.lnf,
        this.headRows(this.paramSegments, chunk).transposeView(),
        ws.logits[k],
      );
    }
    if (gradWeights) rt.write(ws.weights, gradWeights);
    if (ws.chunks.length === 1 && gradWeights) {
      await crossEntropyForwardBackward(
        rt,
        ws.logits[0],
        ws.targets,
        ws.weights,
        ws.tokenLoss,
        ws.dlogits[0],
        this.dims.V,
      );
    } else if (ws.chunks.length === 1) {
      await crossEntropyForward(rt, ws.logits[0], ws.targets, ws.tokenLoss, this.dims.V);
    } else {
      const chunks = ws.chunks.map((c, k) => ({ logits: ws.logits[k], colStart: c.colStart }));
      const backward = gradWeights ? { weights: ws.weights, dlogits: ws.dlogits } : undefined;
      await crossEntropyChunked(
        rt,
        chunks,
        ws.targets,
        this.dims.V,
        ws.ceStats,
        ws.tokenLoss,
        backward,
      );
    }
  }

  // ---- backward -------------------------------------------------------------------------------

  private async recordBackward(batch: PreparedBatch): Promise<void> {
    const rt = this.rt;
    const ws = this.ws!;
    const { L, H, hs } = this.dims;
    const { B, T } = batch;
    const N = B * T;
    const p = (name: string) => this.param(name);
    const gr = (name: string) => this.grad(name);
    const colSumOptions = { rowsPerBlock: Math.max(N, 1) };
    /** dx = dy·Wᵀ (when dx is given), dW = xᵀ·dy, db = Σ_rows dy. */
    const linearBackward = async (prefix: string, x: Tensor, dy: Tensor, dx: Tensor | null) => {
      await matmul(rt, x.transposeView(), dy, gr(`${prefix}.weight`));
      await colSum(rt, dy, gr(`${prefix}.bias`), colSumOptions);
      if (dx) await matmul(rt, dy, p(`${prefix}.weight`).transposeView(), dx);
    };

    for (const view of this.accumulatedGrads()) await fill(rt, view, 0);
    // Tied head: dln_f = dlogits·wte, dwte = dlogitsᵀ·ln_f (the embedding adds its part below).
    // Padding columns of dlogits are 0, so wte's padding rows get exactly zero gradient.
    for (const [k, chunk] of ws.chunks.entries()) {
      await matmul(rt, ws.dlogits[k], this.headRows(this.paramSegments, chunk), ws.scratch, {
        accumulate: k > 0,
      });
      await matmul(
        rt,
        ws.dlogits[k].transposeView(),
        ws.lnf,
        this.headRows(this.gradSegments, chunk),
      );
    }
    await layerNormBackwardInput(
      rt,
      ws.xFinal,
      p("ln_f.weight"),
      ws.scratch,
      ws.lnfStats,
      null,
      ws.dres[L],
    );
    await layerNormBackwardParams(
      rt,
      ws.xFinal,
      ws.scratch,
      ws.lnfStats,
      gr("ln_f.weight"),
      gr("ln_f.bias"),
    );
    for (let l = L - 1; l >= 0; l--) {
      const a = ws.layers[l];
      const h = (name: string) => `h.${l}.${name}`;
      const dOut = ws.dres[l + 1];
      await linearBackward(h("mlp.c_proj"), a.g, dOut, a.dfc);
      await geluBackward(rt, a.fc, a.dfc, a.dfc);
      await linearBackward(h("mlp.c_fc"), a.ln2, a.dfc, ws.scratch);
      await layerNormBackwardInput(
        rt,
        a.xMid,
        p(h("ln_2.weight")),
        ws.scratch,
        a.ln2Stats,
        dOut,
        a.dMid,
      );
      await layerNormBackwardParams(
        rt,
        a.xMid,
        ws.scratch,
        a.ln2Stats,
        gr(h("ln_2.weight")),
        gr(h("ln_2.bias")),
      );
      await linearBackward(h("attn.c_proj"), a.y, a.dMid, ws.scratch);
      await attentionBackward(rt, { B, T, H, hs }, a.qkv, a.probs, ws.scratch, ws.dscores, a.dqkv);
      await linearBackward(h("attn.c_attn"), a.ln1, a.dqkv, ws.scratch);
      await layerNormBackwardInput(
        rt,
        a.x,
        p(h("ln_1.weight")),
        ws.scratch,
        a.ln1Stats,
        a.dMid,
        ws.dres[l],
      );
      await layerNormBackwardParams(
        rt,
        a.x,
        ws.scratch,
        a.ln1Stats,
        gr(h("ln_1.weight")),
        gr(h("ln_1.bias")),
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
      ws.dres[0],
      this.vocabRows(this.gradSegments),
      gr("wpe.weight"),
    );
    this.hasGradients = true;
  }

  // ---- recorded steps (no readback) -----------------------------------------------------------

  private static checkDestination(dst: Tensor, offset: number, size: number): void {
    if (!dst.isContiguous || !Number.isInteger(offset) || offset < 0 || offset + size > dst.size) {
      throw new RangeError(
        `destination [${dst.shape}] cannot take ${size} elements at offset ${offset}`,
      );
    }
  }

  /** Copies the last batch's token losses (and extras) into dst at `offset`, ordered with the recorded work. */
  private copyOut(dst: Tensor, offset: number, extras: Tensor[]): void {
    let at = dst.offset + offset;
    for (const src of [this.ws!.tokenLoss, ...extras]) {
      this.rt.copy(src, dst.view([src.size], undefined, at));
      at += src.size;
    }
  }

  /**
   * Records a forward (like `forward`) without reading back: its B·T token losses are copied into
   * `dst` from element `offset`. After reading dst back (one `rt.read` for many such calls),
   * `resolve` turns its contents into the LossResult. Later batches may reuse the model's buffers.
   */
  async recordForwardInto(
    batch: Batch,
    dst: Tensor,
    offset: number,
  ): Promise<Deferred<LossResult>> {
    const prepared = prepareBatch(batch, this.config);
    const size = prepared.B * prepared.T;
    Gpt2Model.checkDestination(dst, offset, size);
    await this.recordForward(prepared, null);
    this.copyOut(dst, offset, []);
    return {
      size,
      resolve: (values) => lossResult(prepared, values.subarray(offset, offset + size)),
    };
  }

  /**
   * Records a `trainStep` without reading back: B·T token losses then Σ grad² are copied into
   * `dst` from `offset` (B·T + 1 elements); `resolve` gives the StepResult from dst's contents.
   */
  async recordTrainStepInto(
    batch: Batch,
    optimizer: GpuOptimizer,
    dst: Tensor,
    offset: number,
  ): Promise<Deferred<StepResult>> {
    const prepared = prepareBatch(batch, this.config);
    const N = prepared.B * prepared.T;
    const size = N + 1;
    Gpt2Model.checkDestination(dst, offset, size);
    await this.recordGradients(prepared);
    const lr = await this.recordUpdate(optimizer);
    this.copyOut(dst, offset, [this.normSq]);
    return {
      size,
      resolve: (values) => ({
        ...lossResult(prepared, values.subarray(offset, offset + N)),
        gradNorm: Math.sqrt(values[offset + N]),
        lr,
      }),
    };
  }

  // ---- public steps ---------------------------------------------------------------------------

  /** Evaluation: per-example mean token losses (no gradients). */
  async forward(batch: Batch): Promise<LossResult> {
    const prepared = prepareBatch(batch, this.config);
    await this.recordForward(prepared, null);
    return lossResult(prepared, await this.rt.readOne(this.ws!.tokenLoss));
  }

  /**
   * Forward and backward. The objective is Σ_positions weights·ce; by default the batch loss
   * (mean over examples of each one's mean counted token loss). `weights` [B·T] is indexed by
   * predicting position (position t predicts token t + 1), e.g. the loss mask for a summed loss.
   */
  async computeGradients(
    batch: Batch,
    options: { weights?: ArrayLike<number> } = {},
  ): Promise<LossResult & { gradNorm: number }> {
    const prepared = prepareBatch(batch, this.config);
    await this.recordGradients(prepared, options.weights);
    const [tokenLoss, normSq] = await this.rt.read([this.ws!.tokenLoss, this.normSq]);
    return { ...lossResult(prepared, tokenLoss), gradNorm: Math.sqrt(normSq[0]) };
  }

  private async recordGradients(prepared: PreparedBatch, weights?: ArrayLike<number>) {
    const N = prepared.B * prepared.T;
    if (weights && weights.length !== N) {
      throw new RangeError(`weights has ${weights.length} entries, expected B·T = ${N}`);
    }
    await this.recordForward(prepared, weights ? Float32Array.from(weights) : prepared.lossWeights);
    await this.recordBackward(prepared);
    if (!this.normParts) {
      await dot(this.rt, this.gradSegments[0], this.gradSegments[0], this.normSq);
      return;
    }
    for (const [i, g] of this.gradSegments.entries()) {
      await dot(this.rt, g, g, this.normParts.view([1], undefined, i));
    }
    await colSum(this.rt, this.normParts.reshape([this.gradSegments.length, 1]), this.normSq);
  }

  /** computeGradients on the batch loss, then one optimiser update (clipping included). */
  async trainStep(batch: Batch, optimizer: GpuOptimizer): Promise<StepResult> {
    const prepared = prepareBatch(batch, this.config);
    await this.recordGradients(prepared);
    const lr = await this.recordUpdate(optimizer);
    const [tokenLoss, normSq] = await this.rt.read([this.ws!.tokenLoss, this.normSq]);
    return { ...lossResult(prepared, tokenLoss), gradNorm: Math.sqrt(normSq[0]), lr };
  }

  private async recordUpdate(optimizer: GpuOptimizer): Promise<number> {
    return await optimizer.apply(
      this.rt,
      this.layout.segments.map((segment, i) => ({
        params: this.paramSegments[i],
        grads: this.gradSegments[i],
        decayEnd: segment.decayEnd,
        normSq: this.normSq,
      })),
    );
  }

  /** Per-token a_t and s_t of every linear layer for the last computeGradients / trainStep. */
  linearTaps(): LinearTap[] {
    if (!this.ws || !this.hasGradients) throw new Error("no gradients yet");
    const ws = this.ws;
    const { B, T } = ws;
    const taps: LinearTap[] = [];
    ws.layers.forEach((a, l) => {
      const entries: [LinearTap["module"], Tensor, Tensor][] = [
        ["attn.c_attn", a.ln1, a.dqkv],
        ["attn.c_proj", a.y, a.dMid],
        ["mlp.c_fc", a.ln2, a.dfc],
        ["mlp.c_proj", a.g, ws.dres[l + 1]],
      ];
      for (const [module, input, outputGrad] of entries) {
        const name = `h.${l}.${module}`;
        taps.push({
          name,
          layer: l,
          module,
          input: input.reshape([B, T, input.shape[1]]),
          outputGrad: outputGrad.reshape([B, T, outputGrad.shape[1]]),
          weight: this.param(`${name}.weight`),
          bias: this.param(`${name}.bias`),
        });
      }
    });
    return taps;
  }

  /** An optimiser whose state matches this model's parameter layout. */
  createOptimizer(config: OptimizerConfigInput): GpuOptimizer {
    return GpuOptimizer.create(this.rt, config, this.layout.segments.map((s) => s.size));
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    for (const t of [...this.paramSegments, ...this.gradSegments]) t.dispose();
    this.normSq.dispose();
    this.normParts?.dispose();
  }
}
