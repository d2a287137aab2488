// Every GPU buffer one batch shape [B, T] needs: inputs, activations (kept for the backward),
// logits, losses and the backward's per-layer gradients. The model rebuilds it when B or T
// changes. Activations are [N, ·] with N = B·T rows (row = b·T + t).
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Dims } from "./config.ts";
import type { HeadChunk } from "./head_chunks.ts";
import { SAMPLE_STATE } from "./kernels/sample.ts";
import { maxSegmentElements } from "./layout.ts";
import type { LinearModule } from "./taps.ts";
import { DomainError } from "../errors.ts";

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
 * The backward's intermediate cotangents that it otherwise overwrites (in `scratch`, or GELU's
 * in place), kept for a tangent backward (tangent.ts): per layer dL/dg, dL/dln2, dL/dy and
 * dL/dln1 [N, ·], and dL/dln_f.
 */
export interface KeptCotangents {
  dg: Tensor[];
  dln2: Tensor[];
  dy: Tensor[];
  dln1: Tensor[];
  dlnf: Tensor;
}

/** A batch whose activations (attention probabilities, MLP hidden) exceed one buffer binding. */
export class BatchTooLargeError extends DomainError {
  override name = "BatchTooLargeError";
  declare readonly details: {
    batchSize: number;
    tokens: number;
    elements: number;
    maxBindableElements: number;
  };
  constructor(B: number, T: number, elements: number, maxBindableElements: number) {
    super(
      "invalid",
      "batch_too_large_for_device",
      `a batch of ${B} sequences of ${T} tokens needs an activation of ${elements} elements, more ` +
        `than this GPU can bind (${maxBindableElements}); use a smaller batch or shorter texts`,
      { batchSize: B, tokens: T, elements, maxBindableElements },
    );
  }
}

export class Workspace {
  readonly tensors: Tensor[] = [];
  readonly tokens: Tensor;
  /** The label each position is scored against (ids as f32); sampling overwrites it. */
  readonly targets: Tensor;
  readonly keyMask: Tensor;
  readonly weights: Tensor;
  readonly groups: Tensor;
  /** Label sampling: one uniform draw per row, and the sampling kernel's state. */
  readonly draws: Tensor;
  readonly sampleState: Tensor;
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
  /** Set by keepCotangents(): the backward then keeps its intermediate cotangents. */
  kept: KeptCotangents | null = null;

  /**
   * Throws BatchTooLargeError if a [B, T] batch's largest activation exceeds what the device
   * binds (activations are bound whole, against the device's own limit, whatever lower limit the
   * model plans its parameters for).
   */
  static checkFits(rt: GpuRuntime, B: number, T: number, D: Dims): void {
    const bindable = maxSegmentElements(rt.device.limits);
    const largest = Math.max(B * D.H * T * T, B * T * 3 * D.d, B * T * D.f);
    if (largest > bindable) throw new BatchTooLargeError(B, T, largest, bindable);
  }

  constructor(
    private readonly rt: GpuRuntime,
    readonly B: number,
    readonly T: number,
    private readonly D: Dims,
    readonly chunks: readonly HeadChunk[],
  ) {
    const N = B * T;
    const z = (shape: number[]) => this.zeros(shape);
    this.tokens = z([N]);
    this.targets = z([N]);
    this.keyMask = z([N]);
    this.weights = z([N]);
    this.groups = z([3 * N + 1]); // ids, starts, rows: at most N + (N + 1) + N
    this.draws = z([N]);
    this.sampleState = z([SAMPLE_STATE * N]);
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

  private zeros(shape: number[]): Tensor {
    const t = this.rt.zeros(shape);
    this.tensors.push(t);
    return t;
  }

  /** From now on the backward keeps its intermediate cotangents (allocated once). */
  keepCotangents(): KeptCotangents {
    if (this.kept) return this.kept;
    const { d, f, L } = this.D;
    const N = this.B * this.T;
    const per = (cols: number) => Array.from({ length: L }, () => this.zeros([N, cols]));
    this.kept = {
      dg: per(f),
      dln2: per(d),
      dy: per(d),
      dln1: per(d),
      dlnf: this.zeros([N, d]),
    };
    return this.kept;
  }

  /** The residual stream entering layer l (l = L: entering ln_f). */
  residual(l: number): Tensor {
    return l < this.layers.length ? this.layers[l].x : this.xFinal;
  }

  /**
   * A linear layer's input a_t and output gradient s_t as [B, T, ·] views (s_t holds the last
   * backward's values once the backward has passed that layer).
   */
  linearIO(layer: number, module: LinearModule): { input: Tensor; outputGrad: Tensor } {
    const a = this.layers[layer];
    const [input, outputGrad] = {
      "attn.c_attn": [a.ln1, a.dqkv],
      "attn.c_proj": [a.y, a.dMid],
      "mlp.c_fc": [a.ln2, a.dfc],
      "mlp.c_proj": [a.g, this.dres[layer + 1]],
    }[module];
    const { B, T } = this;
    return {
      input: input.reshape([B, T, input.shape[1]]),
      outputGrad: outputGrad.reshape([B, T, outputGrad.shape[1]]),
    };
  }

  dispose(): void {
    for (const t of this.tensors) t.dispose();
  }
}
