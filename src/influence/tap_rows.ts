// From a backward tap to the per-token rows every influence stage works on, on the GPU:
//   a [N, cols]: layer inputs with the bias's 1 appended, zero on padding;
//   s [N, dOut]: output gradients, zero on padding;
// optionally rotated into the factors' eigenbases (ã = a·Q_A, s̃ = s·Q_S), and the per-sequence
// gradient matrices G_b = s_bᵀ·a_b [B, dOut, cols] (in the eigenbasis: Q_Sᵀ·DW_b·Q_A).
// Scratch buffers are sized once for the largest module and batch and reused through views: GPU
// work runs in recording order, so one module's use ends before the next module's begins.
import { matmul } from "../gpu/kernels/matmul.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { LinearTap } from "../gpt2/taps.ts";
import { maskRows } from "./kernels/covariance.ts";
import type { TrackedModule } from "./modules.ts";

export interface Eigenbases {
  /** Q_A [cols, cols], one eigenvector per column. */
  qA: Tensor;
  /** Q_S [dOut, dOut], one eigenvector per column. */
  qS: Tensor;
}

export interface TapRows {
  N: number;
  a: Tensor;
  s: Tensor;
}

export class TapScratch {
  private readonly a: Tensor;
  private readonly s: Tensor;
  private readonly aRot: Tensor;
  private readonly sRot: Tensor;
  private readonly grads: Tensor;
  /** Sequences whose gradient matrices fit `grads` at once, per module. */
  readonly gradElements: number;

  constructor(
    private readonly rt: GpuRuntime,
    modules: readonly TrackedModule[],
    maxRows: number,
    maxSequences: number,
  ) {
    const widest = (f: (m: TrackedModule) => number) => Math.max(1, ...modules.map(f));
    const binding = Math.floor(
      Math.min(rt.device.limits.maxStorageBufferBindingSize, rt.device.limits.maxBufferSize) / 4,
    );
    const rows = Math.max(1, maxRows);
    this.a = rt.zeros([rows * widest((m) => m.cols)]);
    this.s = rt.zeros([rows * widest((m) => m.dOut)]);
    this.aRot = rt.zeros([rows * widest((m) => m.cols)]);
    this.sRot = rt.zeros([rows * widest((m) => m.dOut)]);
    const perSequence = widest((m) => m.dOut * m.cols);
    this.gradElements = Math.min(binding, perSequence * Math.max(1, maxSequences));
    if (perSequence > this.gradElements) {
      throw new RangeError(
        `a gradient matrix of ${perSequence} elements exceeds this GPU's binding limit`,
      );
    }
    this.grads = rt.zeros([this.gradElements]);
  }

  /** Masked rows of one tap (N = B·T rows). */
  async rows(tap: LinearTap, module: TrackedModule, tokenMask: Tensor): Promise<TapRows> {
    const [B, T] = tap.input.shape;
    const N = B * T;
    const a = this.a.view([N, module.cols]);
    const s = this.s.view([N, module.dOut]);
    await maskRows(this.rt, tap.input.reshape([N, module.dIn]), tokenMask, a, true);
    await maskRows(this.rt, tap.outputGrad.reshape([N, module.dOut]), tokenMask, s, false);
    return { N, a, s };
  }

  /** The rows rotated into the eigenbases: ã = a·Q_A, s̃ = s·Q_S. */
  async rotate(rows: TapRows, module: TrackedModule, bases: Eigenbases): Promise<TapRows> {
    const a = this.aRot.view([rows.N, module.cols]);
    const s = this.sRot.view([rows.N, module.dOut]);
    await matmul(this.rt, rows.a, bases.qA, a);
    await matmul(this.rt, rows.s, bases.qS, s);
    return { N: rows.N, a, s };
  }

  /** Sequences per gradient-matrix chunk for `module`. */
  sequencesPerChunk(module: TrackedModule): number {
    return Math.max(1, Math.floor(this.gradElements / (module.dOut * module.cols)));
  }

  /**
   * Per-sequence gradient matrices of sequences [from, from + count) of a batch with T positions:
   * G_b = s_bᵀ·a_b, returned as [count, dOut·cols] (valid until the next call).
   */
  async gradients(
    rows: TapRows,
    module: TrackedModule,
    T: number,
    from: number,
    count: number,
  ): Promise<Tensor> {
    const { dOut, cols } = module;
    const s = rows.s.view([count, T, dOut], [T * dOut, dOut, 1], rows.s.offset + from * T * dOut);
    const a = rows.a.view([count, T, cols], [T * cols, cols, 1], rows.a.offset + from * T * cols);
    const out = this.grads.view([count, dOut, cols]);
    await matmul(this.rt, s.transposeView(), a, out);
    return out.reshape([count, dOut * cols]);
  }

  dispose(): void {
    for (const t of [this.a, this.s, this.aRot, this.sRot, this.grads]) t.dispose();
  }
}
