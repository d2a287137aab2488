// The GPT-2 model on the GPU: forward (per-example losses), backward (every parameter gradient,
// with a visitor over every linear layer's per-token taps, taps.ts) and a training step, built
// from matmul (src/gpu/kernels/matmul.ts), the elementwise GELU, the column-sum reduction and
// the model's own kernels (kernels/).
//
// Parameters, gradients and optimiser state are flat buffers in one layout (layout.ts); each
// named parameter is a view. A model larger than one storage binding (GPT-2-124M on a 128 MiB
// limit) has several such buffers (segments), wte in vocabulary blocks and the logits in column
// chunks (head_chunks.ts); small models have one of each. Activations and the backward's
// per-layer gradients live in the batch shape's workspace (workspace.ts).
import { colSum } from "../gpu/kernels/reduce.ts";
import { dot } from "../gpu/kernels/reduce.ts";
import { fill } from "../gpu/kernels/fill.ts";
import { gelu, geluBackward } from "../gpu/kernels/elementwise.ts";
import { matmul } from "../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { type Batch, prepareBatch, type PreparedBatch } from "./batch.ts";
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
  accumulatedRanges,
  maxSegmentElements,
  packParams,
  type ParamLayout,
  paramLayout,
  unpackParams,
} from "./layout.ts";
import { type HeadChunk, headChunks } from "./head_chunks.ts";
import { sampleLabels } from "./kernels/sample.ts";
import { labelDraws } from "./labels.ts";
import { GpuOptimizer, type OptimizerConfigInput } from "./optimizer.ts";
import type { ParamSet } from "./params.ts";
import {
  type BackwardResult,
  type Deferred,
  type LossResult,
  lossResult,
  type StepResult,
  UNLABELLED,
} from "./results.ts";
import {
  type BackwardOptions,
  type BackwardVisitor,
  LINEAR_MODULES,
  type LinearModule,
  type LinearTap,
  type Objective,
  objectiveWeights,
} from "./taps.ts";
import { checkTangentSupported, recordTangent, TangentWorkspace } from "./tangent.ts";
import { Workspace } from "./workspace.ts";

export class Gpt2Model {
  readonly dims: Dims;
  private ws: Workspace | null = null;
  private last: PreparedBatch | null = null;
  private tws: TangentWorkspace | null = null;
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
      Workspace.checkFits(this.rt, B, T, this.dims);
      this.ws?.dispose();
      const chunks = headChunks(this.layout, B * T, this.maxElements);
      this.ws = new Workspace(this.rt, B, T, this.dims, chunks);
    }
    return this.ws;
  }

  // ---- forward --------------------------------------------------------------------------------

  /**
   * Records the forward, and the cross-entropy's backward when gradWeights [B·T] is given.
   * `draws` [B·T] (labels.ts) replaces the targets of the rows it samples by labels drawn from
   * the logits before the cross-entropy.
   */
  private async recordForward(
    batch: PreparedBatch,
    gradWeights: Float32Array<ArrayBuffer> | null,
    draws: Float32Array<ArrayBuffer> | null = null,
  ) {
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
    if (draws) {
      rt.write(ws.draws, draws);
      const chunks = ws.chunks.map((c, k) => ({ logits: ws.logits[k], colStart: c.colStart }));
      await sampleLabels(rt, chunks, ws.draws, this.dims.V, ws.sampleState, ws.targets);
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

  /** Records the backward from the cross-entropy's dlogits; `visitor` sees each linear layer's tap. */
  private async recordBackward(
    batch: PreparedBatch,
    visitor: BackwardVisitor = {},
    parameterGradients = true,
  ): Promise<void> {
    const rt = this.rt;
    const ws = this.ws!;
    const { L, H, hs } = this.dims;
    const { B, T } = batch;
    const N = B * T;
    const p = (name: string) => this.param(name);
    const gr = (name: string) => this.grad(name);
    const colSumOptions = { rowsPerBlock: Math.max(N, 1) };
    const visit = async (layer: number, module: LinearModule) => {
      await visitor.linear?.(this.linearTap(ws, layer, module));
    };
    // Without parameter gradients only the gradients flowing back through the activations are
    // computed (what the taps need): about a third less work, and no head or embedding gradients.
    const params = parameterGradients;
    /** dx = dy·Wᵀ (when dx is given), dW = xᵀ·dy, db = Σ_rows dy. */
    const linearBackward = async (prefix: string, x: Tensor, dy: Tensor, dx: Tensor | null) => {
      if (params) {
        await matmul(rt, x.transposeView(), dy, gr(`${prefix}.weight`));
        await colSum(rt, dy, gr(`${prefix}.bias`), colSumOptions);
      }
      if (dx) await matmul(rt, dy, p(`${prefix}.weight`).transposeView(), dx);
    };
    const layerNormParams = async (...args: Parameters<typeof layerNormBackwardParams>) => {
      if (params) await layerNormBackwardParams(...args);
    };

    if (params) {
      for (const view of accumulatedRanges(this.layout, this.gradSegments)) {
        await fill(rt, view, 0);
      }
    }
    // Cotangents a tangent backward reads again get their own buffers (Workspace.keepCotangents).
    const kept = ws.kept;
    const dlnf = kept?.dlnf ?? ws.scratch;
    // Tied head: dln_f = dlogits·wte, dwte = dlogitsᵀ·ln_f (the embedding adds its part below).
    // Padding columns of dlogits are 0, so wte's padding rows get exactly zero gradient.
    for (const [k, chunk] of ws.chunks.entries()) {
      await matmul(rt, ws.dlogits[k], this.headRows(this.paramSegments, chunk), dlnf, {
        accumulate: k > 0,
      });
      if (params) {
        await matmul(
          rt,
          ws.dlogits[k].transposeView(),
          ws.lnf,
          this.headRows(this.gradSegments, chunk),
        );
      }
    }
    await layerNormBackwardInput(
      rt,
      ws.xFinal,
      p("ln_f.weight"),
      dlnf,
      ws.lnfStats,
      null,
      ws.dres[L],
    );
    await layerNormParams(
      rt,
      ws.xFinal,
      dlnf,
      ws.lnfStats,
      gr("ln_f.weight"),
      gr("ln_f.bias"),
    );
    for (let l = L - 1; l >= 0; l--) {
      const a = ws.layers[l];
      const h = (name: string) => `h.${l}.${name}`;
      const dOut = ws.dres[l + 1];
      const dg = kept?.dg[l] ?? a.dfc;
      const dln2 = kept?.dln2[l] ?? ws.scratch;
      const dy = kept?.dy[l] ?? ws.scratch;
      const dln1 = kept?.dln1[l] ?? ws.scratch;
      await visit(l, "mlp.c_proj");
      await linearBackward(h("mlp.c_proj"), a.g, dOut, dg);
      await geluBackward(rt, a.fc, dg, a.dfc);
      await visit(l, "mlp.c_fc");
      await linearBackward(h("mlp.c_fc"), a.ln2, a.dfc, dln2);
      await layerNormBackwardInput(
        rt,
        a.xMid,
        p(h("ln_2.weight")),
        dln2,
        a.ln2Stats,
        dOut,
        a.dMid,
      );
      await layerNormParams(
        rt,
        a.xMid,
        dln2,
        a.ln2Stats,
        gr(h("ln_2.weight")),
        gr(h("ln_2.bias")),
      );
      await visit(l, "attn.c_proj");
      await linearBackward(h("attn.c_proj"), a.y, a.dMid, dy);
      await attentionBackward(rt, { B, T, H, hs }, a.qkv, a.probs, dy, ws.dscores, a.dqkv);
      await visit(l, "attn.c_attn");
      // Below layer 0 only the embedding's gradients remain.
      if (l === 0 && !params) break;
      await linearBackward(h("attn.c_attn"), a.ln1, a.dqkv, dln1);
      await layerNormBackwardInput(
        rt,
        a.x,
        p(h("ln_1.weight")),
        dln1,
        a.ln1Stats,
        a.dMid,
        ws.dres[l],
      );
      await layerNormParams(
        rt,
        a.x,
        dln1,
        a.ln1Stats,
        gr(h("ln_1.weight")),
        gr(h("ln_1.bias")),
      );
    }
    this.hasGradients = params;
    if (!params) return;
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

  /**
   * Forward and backward of `objective` (taps.ts): its weights, with the data's labels or labels
   * sampled from the model's own predictions (the true Fisher). `visitor` sees every linear
   * layer's per-token input and output gradient as the backward reaches it (BackwardVisitor's
   * contract). Every parameter gradient is left in the model (readGrads) as computeGradients
   * does, without the gradient norm, unless `options.parameterGradients` is false.
   */
  async backward(
    batch: Batch,
    objective: Objective,
    visitor: BackwardVisitor = {},
    options: BackwardOptions = {},
  ): Promise<BackwardResult> {
    const prepared = prepareBatch(batch, this.config);
    const weights = objectiveWeights(objective, prepared);
    const labels = objective.labels ?? { kind: "data" };
    const draws = labels.kind === "sampled" ? labelDraws(prepared, labels.seed) : null;
    await this.recordForward(prepared, weights, draws);
    await this.recordBackward(prepared, visitor, options.parameterGradients ?? true);
    const [tokenLoss, targets] = await this.rt.read([this.ws!.tokenLoss, this.ws!.targets]);
    let value = 0;
    for (let r = 0; r < weights.length; r++) {
      if (weights[r] !== 0) value += weights[r] * tokenLoss[r];
    }
    return {
      ...lossResult(prepared, tokenLoss),
      objective: value,
      labels: Int32Array.from(
        targets,
        (target, r) => prepared.exampleWeights[r] > 0 ? target : UNLABELLED,
      ),
    };
  }

  // ---- tangent pass (metagradients) ------------------------------------------------------------

  /**
   * Records forward and backward of the batch objective (data weights included) like trainStep's
   * gradient, keeping what a tangent pass needs (recordTangent). Leaves the gradient in `grads`
   * and Σ grad² in gradNormSq(). No readback.
   */
  async recordGradientsForTangent(batch: Batch): Promise<PreparedBatch> {
    checkTangentSupported(this.layout, null);
    const prepared = prepareBatch(batch, this.config);
    this.workspace(prepared.B, prepared.T).keepCotangents();
    await this.recordGradients(prepared);
    return prepared;
  }

  /**
   * The tangent pass of the last recordGradientsForTangent along `direction` (parameter layout):
   * the Hessian–vector product into `hv` (gradient layout); returns the per-position loss
   * tangents ⟨∇ce_r, direction⟩ [B·T] (valid until the next tangent pass). No readback.
   */
  async recordTangent(direction: Tensor, hv: Tensor): Promise<Tensor> {
    const ws = this.ws, batch = this.last;
    if (!ws?.kept || !batch) throw new Error("recordTangent: run recordGradientsForTangent first");
    if (!this.tws || this.tws.B !== ws.B || this.tws.T !== ws.T) {
      this.tws?.dispose();
      this.tws = new TangentWorkspace(this.rt, ws.B, ws.T, this.dims, ws.chunks[0].rows);
    }
    const model = {
      dims: this.dims,
      layout: this.layout,
      ws,
      batch,
      params: this.params,
      param: (name: string) => this.param(name),
    };
    await recordTangent(this.rt, model, this.tws, direction, hv);
    return this.tws.lossDot;
  }

  /** [1] holding Σ grad² of the last gradient (what clipping reads). */
  gradNormSq(): Tensor {
    return this.normSq;
  }

  /** The tap of one linear layer of the current workspace. */
  private linearTap(ws: Workspace, layer: number, module: LinearModule): LinearTap {
    const name = `h.${layer}.${module}`;
    return {
      name,
      layer,
      module,
      ...ws.linearIO(layer, module),
      weight: this.param(`${name}.weight`),
      bias: this.param(`${name}.bias`),
    };
  }

  /**
   * Per-token a_t and s_t of every linear layer (forward order) for the last computeGradients /
   * trainStep / backward: views of the workspace, which the next batch overwrites.
   * @deprecated Use backward() with a BackwardVisitor, whose taps come with a contract.
   */
  linearTaps(): LinearTap[] {
    if (!this.ws || !this.hasGradients) throw new Error("no gradients yet");
    const ws = this.ws;
    return ws.layers.flatMap((_, l) => LINEAR_MODULES.map((m) => this.linearTap(ws, l, m)));
  }

  /** An optimiser whose state matches this model's parameter layout. */
  createOptimizer(config: OptimizerConfigInput): GpuOptimizer {
    return GpuOptimizer.create(this.rt, config, this.layout.segments.map((s) => s.size));
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    this.tws?.dispose();
    this.tws = null;
    for (const t of [...this.paramSegments, ...this.gradSegments]) t.dispose();
    this.normSq.dispose();
    this.normParts?.dispose();
  }
}
