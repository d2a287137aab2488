// The batched rollout of ../batched_rollout.ts on the GPU (shaders/curricula_rollout.wgsl): every
// candidate curriculum of a call in one dispatch, in float32. The problem (θ gathered as
// [2, n, s], the base batches, L_0 and the weights) is uploaded once; each call uploads only its
// candidates' masks (packed to bits) and orders, and reads back one J per candidate. The float64
// CPU rolloutBatch stays the reference and the fallback without a GPU.
import type { HostBuffer } from "../../gpu/host/host_buffer.ts";
import type { GpuRuntime } from "../../gpu/runtime.ts";
import type { Tensor } from "../../gpu/tensor.ts";
import type { Candidate, RolloutProblem } from "../batched_rollout.ts";

const COPY_DST = 0x0008; // GPUBufferUsage.COPY_DST
const STORAGE = 0x0080;
const WG = 64;

/** Lanes per candidate: a power of two covering the tests, at most the workgroup. */
function lanesFor(s: number): number {
  let lanes = 1;
  while (lanes < Math.min(s, WG)) lanes *= 2;
  return lanes;
}

export class GpuRollout {
  readonly #rt: GpuRuntime;
  readonly #p: RolloutProblem;
  readonly #words: number;
  readonly #lanes: number;
  readonly #theta: Tensor;
  readonly #batches: GPUBuffer | HostBuffer;
  readonly #start: Tensor;
  #capacity = 0;
  #cand: GPUBuffer | null = null;
  #out: Tensor | null = null;
  #disposed = false;

  private constructor(rt: GpuRuntime, p: RolloutProblem) {
    this.#rt = rt;
    this.#p = p;
    const { n, s } = p;
    this.#words = Math.max(1, Math.ceil(n / 32));
    this.#lanes = lanesFor(s);
    // Flat shapes of at least one element: zero-sized bindings are invalid.
    const theta = new Float32Array(Math.max(1, 2 * n * s));
    theta.set(p.A, 0);
    theta.set(p.B, n * s);
    this.#theta = rt.tensor(theta);
    const nb = p.ptr.length - 1;
    const batches = new Uint32Array(nb + 1 + p.entries.length);
    batches.set(p.ptr, 0);
    batches.set(p.entries, nb + 1);
    this.#batches = rt.u32Storage(batches);
    const start = new Float32Array(Math.max(1, 2 * s));
    start.set(p.initial, 0);
    start.set(p.weights, s);
    this.#start = rt.tensor(start);
  }

  /** Uploads the problem; dispose() releases it. */
  static create(rt: GpuRuntime, p: RolloutProblem): GpuRollout {
    return new GpuRollout(rt, p);
  }

  #ensureCapacity(C: number): void {
    if (C <= this.#capacity) return;
    const capacity = Math.max(C, 2 * this.#capacity, 64);
    if (this.#cand) this.#rt.release(this.#cand);
    this.#out?.dispose();
    const words = capacity * (this.#words + this.#p.T);
    this.#cand = this.#rt.device.createBuffer({
      size: Math.max(4, words * 4),
      usage: STORAGE | COPY_DST,
    });
    this.#out = this.#rt.zeros([capacity]);
    this.#capacity = capacity;
  }

  /** The objective J of every candidate (the GPU counterpart of rolloutBatch). */
  async evaluate(candidates: readonly Candidate[]): Promise<Float64Array> {
    if (this.#disposed) throw new Error("GpuRollout used after dispose");
    const C = candidates.length;
    if (C === 0) return new Float64Array(0);
    const { n, s, T } = this.#p;
    const nb = this.#p.ptr.length - 1;
    const words = this.#words;
    const orderBase = C * words;
    const data = new Uint32Array(C * (words + T));
    candidates.forEach((c, k) => {
      if (c.mask.length !== n) throw new RangeError(`candidate ${k}: mask must have ${n} entries`);
      for (let i = 0; i < n; i++) {
        if (c.mask[i] !== 0) data[k * words + (i >>> 5)] |= 1 << (i & 31);
      }
      if (c.order.length < T) throw new RangeError(`candidate ${k}: order needs ${T} steps`);
      for (let t = 0; t < T; t++) {
        const b = c.order[t];
        if (!Number.isInteger(b) || b < 0 || b >= nb) {
          throw new RangeError(`candidate ${k}: order[${t}] = ${b} is not a base batch`);
        }
        data[orderBase + k * T + t] = b;
      }
    });
    this.#ensureCapacity(C);
    const rt = this.#rt;
    // Ordered after every dispatch recorded so far (as GpuRuntime.write does).
    rt.flush();
    rt.device.queue.writeBuffer(this.#cand!, 0, data);
    const key = { shader: "curricula_rollout", defines: { SL: this.#lanes } };
    const pipeline = await rt.pipelines.get(key);
    const groups = Math.ceil(C / (WG / this.#lanes));
    const maxDim = rt.device.limits.maxComputeWorkgroupsPerDimension;
    const x = Math.min(groups, maxDim);
    rt.record(pipeline, {
      pipeline: key,
      params: {
        u: [
          n,
          s,
          T,
          C,
          words,
          orderBase,
          nb + 1,
          this.#p.fittedPresent === null ? 0 : 1,
          this.#p.at === "mean" ? 1 : 0,
        ],
        f: [this.#p.fittedPresent ?? 1],
      },
      bindings: [this.#theta, this.#batches, this.#start, this.#cand!, this.#out!],
      workgroups: [x, Math.ceil(groups / x)],
    });
    const raw = await rt.readOne(this.#out!);
    return Float64Array.from(raw.subarray(0, C));
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#theta.dispose();
    this.#start.dispose();
    this.#out?.dispose();
    this.#rt.release(this.#batches);
    if (this.#cand) this.#rt.release(this.#cand);
  }
}

/** One-off GPU counterpart of rolloutBatch (uploads the problem, evaluates, releases). */
export async function rolloutBatchGpu(
  rt: GpuRuntime,
  p: RolloutProblem,
  candidates: readonly Candidate[],
): Promise<Float64Array> {
  const rollout = GpuRollout.create(rt, p);
  try {
    return await rollout.evaluate(candidates);
  } finally {
    rollout.dispose();
  }
}
