// The GPT-2 model on the GPU: forward (per-example losses), backward (every parameter gradient)
// and a training step, built from matmul (src/gpu/kernels/matmul.ts), the elementwise GELU, the
// column-sum reduction and the model's own kernels (src/model/kernels.ts).
//
// Parameters, gradients and optimiser state are flat buffers in one layout (src/model/layout.ts);
// each named parameter is a view. Activations are [N, ·] with N = B·T rows (row = b·T + t) and
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
import {
  attentionBackward,
  attentionForward,
  crossEntropyForward,
  crossEntropyForwardBackward,
  embeddingBackward,
  embeddingForward,
  layerNormBackwardInput,
  layerNormBackwardParams,
  layerNormForward,
  tokenGroups,
} from "./kernels.ts";
import { packParams, type ParamLayout, paramLayout, unpackParams } from "./layout.ts";
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

/** Every buffer a batch shape needs; rebuilt when B or T changes. */
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
  readonly logits: Tensor;
  readonly tokenLoss: Tensor;
  readonly dlogits: Tensor;
  /** dres[l]: gradient w.r.t. the residual stream entering layer l; dres[L] at ln_f's input. */
  readonly dres: Tensor[] = [];
  readonly scratch: Tensor; // [N, d]
  readonly dscores: Tensor; // [B, H, T, T]

  constructor(
    rt: GpuRuntime,
    readonly B: number,
    readonly T: number,
    D: Dims,
    paddedVocab: number,
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
    this.logits = z([N, paddedVocab]);
    this.tokenLoss = z([N]);
    this.dlogits = z([N, paddedVocab]);
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
  readonly layout: ParamLayout;
  private ws: Workspace | null = null;
  private last: PreparedBatch | null = null;
  private hasGradients = false;

  private constructor(
    private readonly rt: GpuRuntime,
    readonly config: Gpt2Config,
    /** Flat parameters, gradients and Σ grad² ([1]). */
    readonly params: Tensor,
    readonly grads: Tensor,
    private readonly normSq: Tensor,
  ) {
    this.dims = dimsOf(config);
    this.layout = paramLayout(config);
  }

  static create(rt: GpuRuntime, set: ParamSet): Gpt2Model {
    const layout = paramLayout(set.config);
    const params = rt.tensor(packParams(layout, set.values), [layout.total]);
    return new Gpt2Model(rt, set.config, params, rt.zeros([layout.total]), rt.zeros([1]));
  }

  /** A named parameter as a view of the flat buffer. */
  param(name: string): Tensor {
    return this.slotView(this.params, name);
  }

  /** A named parameter's gradient (valid after computeGradients / trainStep). */
  grad(name: string): Tensor {
    return this.slotView(this.grads, name);
  }

  private slotView(flat: Tensor, name: string): Tensor {
    const slot = this.layout.byName.get(name);
    if (!slot) throw new RangeError(`no parameter named ${name}`);
    return flat.view(slot.shape, undefined, slot.offset);
  }

  /** Replaces every parameter (same config). */
  setParams(set: ParamSet): void {
    this.rt.write(this.params, packParams(this.layout, set.values));
  }

  async readParams(): Promise<ParamSet> {
    const flat = await this.rt.readOne(this.params);
    return { config: this.config, values: unpackParams(this.layout, flat) };
  }

  async readGrads(): Promise<Map<string, Float32Array>> {
    if (!this.hasGradients) throw new Error("no gradients yet: run computeGradients or trainStep");
    return unpackParams(this.layout, await this.rt.readOne(this.grads));
  }

  /**
   * Logits of the last batch, [B·T, paddedVocab] on the GPU: columns from vocab_size on belong
   * to wte's zero padding rows and are ignored by the loss.
   */
  logits(): Tensor {
    if (!this.ws || !this.last) throw new Error("no batch has been run yet");
    return this.ws.logits;
  }

  /** The last batch's logits as [B·T, vocab_size] row-major, padding columns dropped. */
  async readLogits(): Promise<Float32Array> {
    const padded = await this.rt.readOne(this.logits());
    const { V } = this.dims, Vp = this.layout.paddedVocab;
    const rows = padded.length / Vp;
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) out.set(padded.subarray(r * Vp, r * Vp + V), r * V);
    return out;
  }

  /** wte with its zero padding rows, [paddedVocab, d]: the tied head's weight. */
  private headWeight(): Tensor {
    const slot = this.layout.byName.get("wte.weight")!;
    return this.params.view([this.layout.paddedVocab, this.dims.d], undefined, slot.offset);
  }

  private headGrad(): Tensor {
    const slot = this.layout.byName.get("wte.weight")!;
    return this.grads.view([this.layout.paddedVocab, this.dims.d], undefined, slot.offset);
  }

  private workspace(B: number, T: number): Workspace {
    if (!this.ws || this.ws.B !== B || this.ws.T !== T) {
      this.ws?.dispose();
      this.ws = new Workspace(this.rt, B, T, this.dims, this.layout.paddedVocab);
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
    await embeddingForward(rt, ws.tokens, p("wte.weight"), p("wpe.weight"), T, ws.residual(0));
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
    // Tied head: logits = ln_f(x)·wteᵀ.
    await matmul(rt, ws.lnf, this.headWeight().transposeView(), ws.logits);
    if (gradWeights) {
      rt.write(ws.weights, gradWeights);
      await crossEntropyForwardBackward(
        rt,
        ws.logits,
        ws.targets,
        ws.weights,
        ws.tokenLoss,
        ws.dlogits,
        this.dims.V,
      );
    } else {
      await crossEntropyForward(rt, ws.logits, ws.targets, ws.tokenLoss, this.dims.V);
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

    await fill(rt, this.grads, 0);
    // Tied head: dln_f = dlogits·wte, dwte = dlogitsᵀ·ln_f (the embedding adds its part below).
    // Padding columns of dlogits are 0, so wte's padding rows get exactly zero gradient.
    await matmul(rt, ws.dlogits, this.headWeight(), ws.scratch);
    await matmul(rt, ws.dlogits.transposeView(), ws.lnf, this.headGrad());
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
      groups.distinct,
      B,
      T,
      ws.dres[0],
      gr("wte.weight"),
      gr("wpe.weight"),
    );
    this.hasGradients = true;
  }

  // ---- public steps ---------------------------------------------------------------------------

  /** Evaluation: per-example mean token losses (no gradients). */
  async forward(batch: Batch): Promise<LossResult> {
    const prepared = prepareBatch(batch, this.config);
    await this.recordForward(prepared, null);
    const tokenLoss = await this.rt.readOne(this.ws!.tokenLoss);
    return { ...exampleLosses(prepared, tokenLoss), tokenLoss };
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
    return { ...exampleLosses(prepared, tokenLoss), tokenLoss, gradNorm: Math.sqrt(normSq[0]) };
  }

  private async recordGradients(prepared: PreparedBatch, weights?: ArrayLike<number>) {
    const N = prepared.B * prepared.T;
    if (weights && weights.length !== N) {
      throw new RangeError(`weights has ${weights.length} entries, expected B·T = ${N}`);
    }
    await this.recordForward(prepared, weights ? Float32Array.from(weights) : prepared.lossWeights);
    await this.recordBackward(prepared);
    await dot(this.rt, this.grads, this.grads, this.normSq);
  }

  /** computeGradients on the batch loss, then one optimiser update (clipping included). */
  async trainStep(batch: Batch, optimizer: GpuOptimizer): Promise<StepResult> {
    const prepared = prepareBatch(batch, this.config);
    await this.recordGradients(prepared);
    const lr = await optimizer.apply(this.rt, {
      params: this.params,
      grads: this.grads,
      decayEnd: this.layout.decayEnd,
      normSq: this.normSq,
    });
    const [tokenLoss, normSq] = await this.rt.read([this.ws!.tokenLoss, this.normSq]);
    return {
      ...exampleLosses(prepared, tokenLoss),
      tokenLoss,
      gradNorm: Math.sqrt(normSq[0]),
      lr,
    };
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
    return GpuOptimizer.create(this.rt, config, this.layout.total);
  }

  dispose(): void {
    this.ws?.dispose();
    this.ws = null;
    this.params.dispose();
    this.grads.dispose();
    this.normSq.dispose();
  }
}
