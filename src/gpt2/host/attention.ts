// CPU port of shaders/gpt2_attention.wgsl: causal multi-head self-attention with a key padding
// mask, `forward`, `backward_query` and `backward_key`. Layouts (elements, from each offset): qkv
// [B, T, 3d] with q | k | v along the last axis and head h in columns h·HS .. h·HS + HS - 1 of
// each; keyMask [B, T] (1 = real token); y, dy [B, T, d]; probs, dscores [B, H, T, T] (row t holds
// keys s, 0 for future or masked keys); dqkv [B, T, 3d]. HS is the pipeline's define and
// scale = 1/sqrt(HS). The GPU runs one invocation per row (b, h, t); here each (b, h) head is
// done at once as small float64 matrix products (BLAS dgemm) over copies of its q, k, v (and dy)
// padded with zeros to multiples of 4 (rows and columns): S = q·kᵀ, y = P·v (forward); dP = dy·vᵀ, dq = dS·k (backward_query);
// dk = dSᵀ·q, dv = Pᵀ·dy (backward_key). The forward's online softmax is two passes (the scores'
// max, then the exponentials). Masked keys, future keys and queries without a visible key enter
// the products as P = 0 and dS = 0, where the WGSL skips them: the same for finite q, k, v, dy.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { linearAlgebra } from "../../linalg/select.ts";
import { withOneBlasThread } from "../../linalg/blas_threads.ts";
import { covered } from "../../gpu/host/grid.ts";
import { headSoftmax } from "./wasm/softmax.ts";
import {
  type HostPart,
  type HostSplitKernel,
  type HostSplitTable,
  partRange,
  WHOLE,
} from "../../gpu/host/pool/split.ts";

const LOWEST = -3.4028234663852886e38;

/** The padded sizes and the scratch matrices of one head, grown as needed. */
class HeadScratch {
  Tp = 0;
  HSp = 0;
  /** [Tp, HSp] each. */
  a = new Float64Array(0);
  b = new Float64Array(0);
  c = new Float64Array(0);
  out = new Float64Array(0);
  out2 = new Float64Array(0);
  /** [Tp, Tp]. */
  sq = new Float64Array(0);

  shape(T: number, HS: number): void {
    this.Tp = (T + 3) & ~3;
    this.HSp = (HS + 3) & ~3;
    const rect = this.Tp * this.HSp, square = this.Tp * this.Tp;
    if (this.a.length < rect) {
      this.a = new Float64Array(rect);
      this.b = new Float64Array(rect);
      this.c = new Float64Array(rect);
      this.out = new Float64Array(rect);
      this.out2 = new Float64Array(rect);
    }
    if (this.sq.length < square) this.sq = new Float64Array(square);
  }
}

const scratch = new HeadScratch();

/**
 * dst[t·HSp + j] = src[at + t·stride + j] for t < T, j < HS; zeros in the padding (rows T..Tp,
 * columns HS..HSp).
 */
function load(
  src: Float32Array,
  at: number,
  stride: number,
  T: number,
  HS: number,
  dst: Float64Array,
  Tp: number,
  HSp: number,
): void {
  for (let t = 0; t < T; t++) {
    const from = at + t * stride, to = t * HSp;
    for (let j = 0; j < HS; j++) dst[to + j] = src[from + j];
    for (let j = HS; j < HSp; j++) dst[to + j] = 0;
  }
  dst.fill(0, T * HSp, Tp * HSp);
}

/** dst[at + t·stride + j] = src[t·HSp + j] for t in [t0, t1), j < HS. */
function store(
  src: Float64Array,
  HSp: number,
  t0: number,
  t1: number,
  HS: number,
  dst: Float32Array,
  at: number,
  stride: number,
): void {
  for (let t = t0; t < t1; t++) {
    const from = t * HSp, to = at + t * stride;
    for (let j = 0; j < HS; j++) dst[to + j] = src[from + j];
  }
}

// The three products of a head run as float64 BLAS (dgemm) over the whole padded matrices: the
// zeros above P's and dS's diagonal (and in the padding) make the full products equal the
// causal sums the WGSL takes, at a fraction of the time of JavaScript loops.

/**
 * C = op(A)·op(B) over the leading m·k, k·n and m·n entries of the scratch matrices (row-major,
 * A stored [k, m] when transposed, B stored [n, k]).
 */
function product(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  A: Float64Array,
  B: Float64Array,
  C: Float64Array,
): void {
  linearAlgebra().dgemm(
    transA,
    transB,
    m,
    n,
    k,
    1,
    A.subarray(0, m * k),
    B.subarray(0, k * n),
    0,
    C.subarray(0, m * n),
  );
}

/** C = A·Bᵀ: A, B [Tp, HSp], C [Tp, Tp]. */
const lowerABt = (A: Float64Array, B: Float64Array, Tp: number, HSp: number, C: Float64Array) =>
  product(false, true, Tp, Tp, HSp, A, B, C);

/** O = P·X: P [Tp, Tp] (0 above the diagonal), X, O [Tp, HSp]. */
const lowerPX = (P: Float64Array, X: Float64Array, Tp: number, HSp: number, O: Float64Array) =>
  product(false, false, Tp, HSp, Tp, P, X, O);

/** O = Pᵀ·X: P [Tp, Tp] (0 above the diagonal), X, O [Tp, HSp]. */
const upperPtX = (P: Float64Array, X: Float64Array, Tp: number, HSp: number, O: Float64Array) =>
  product(true, false, Tp, HSp, Tp, P, X, O);

/** The launch's shape: rows [0, rows) of B·H·T are computed (all of them, for grid1d). */
function shapeOf(call: HostCall) {
  const [B, T, H] = call.u;
  const HS = Number(call.defines.HS);
  const d = H * HS;
  return { B, T, H, HS, d, d3: 3 * d, rows: covered(call, B * H * T) };
}

/**
 * The causal softmax of one head's rows in JavaScript (where the WebAssembly module is missing):
 * P [Tp, Tp] holds q·kᵀ in, probabilities out; rows t < tEnd are also written to probs. Exported
 * for its test against the module.
 */
export function softmaxRows(
  P: Float64Array,
  T: number,
  Tp: number,
  scale: number,
  keyVisible: (s: number) => boolean,
  allVisible: boolean,
  probs: Float32Array,
  pHead: number,
  tEnd: number,
): void {
  for (let t = 0; t < T; t++) {
    const row = t * Tp, end = row + t;
    let m = LOWEST;
    for (let s = 0; s <= t; s++) {
      if (!allVisible && !keyVisible(s)) {
        P[row + s] = -Infinity;
        continue;
      }
      const score = P[row + s] * scale;
      P[row + s] = score;
      if (score > m) m = score;
    }
    let sum = 0;
    for (let i = row; i <= end; i++) {
      // A masked key holds -∞: its e is exactly 0, as it is absent from the WGSL's sums.
      const e = Math.exp(P[i] - m);
      P[i] = e;
      sum += e;
    }
    // No visible key: probabilities and output stay 0.
    const inv = sum > 0 ? 1 / sum : 0;
    P.fill(0, end + 1, row + Tp);
    if (t < tEnd) {
      const pRow = pHead + t * T - row;
      for (let i = row; i <= end; i++) probs[pRow + i] = P[i] *= inv;
      probs.fill(0, pRow + end + 1, pRow + row + T);
    } else {
      for (let i = row; i <= end; i++) P[i] *= inv;
    }
  }
}

/** `forward`: probs rows and y from qkv and the key mask. */
function forward(call: HostCall, part: HostPart): void {
  const [qkvBuf, maskBuf, yBuf, probsBuf] = call.buffers;
  const qkv = qkvBuf.f32, mask = maskBuf.f32, y = yBuf.f32, probs = probsBuf.f32;
  const [, , , qkvOffset, maskOffset, yOffset, probsOffset] = call.u;
  const scale = call.f[0];
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  scratch.shape(T, HS);
  const { Tp, HSp, a: q, b: k, c: v, out } = scratch;
  // The scores live in the WebAssembly module's memory when it runs the softmax.
  const simd = headSoftmax(T, Tp);
  const P = simd ? simd.scores : scratch.sq;
  const [first, last] = partRange(Math.ceil(rows / T), part);
  for (let head = first; head < last; head++) {
    const b = Math.floor(head / H), h = head % H;
    const tEnd = Math.min(T, rows - head * T);
    const col = qkvOffset + b * T * d3 + h * HS;
    load(qkv, col, d3, T, HS, q, Tp, HSp);
    load(qkv, col + d, d3, T, HS, k, Tp, HSp);
    load(qkv, col + 2 * d, d3, T, HS, v, Tp, HSp);
    P.fill(0, 0, Tp * Tp);
    lowerABt(q, k, Tp, HSp, P);
    const mBase = maskOffset + b * T;
    const pHead = probsOffset + head * T * T;
    // Whether every key of this batch row is real (the common case: no mask test per score).
    let allVisible = true;
    for (let s = 0; s < T; s++) if (mask[mBase + s] === 0) allVisible = false;
    if (simd) {
      // Masked keys enter as -∞ (scaled, still -∞): exactly 0 after the exponential.
      if (!allVisible) {
        for (let t = 0; t < T; t++) {
          for (let s = 0; s <= t; s++) if (mask[mBase + s] === 0) P[t * Tp + s] = -Infinity;
        }
      }
      simd.run(scale);
      probs.set(simd.probs.subarray(0, tEnd * T), pHead);
    } else {
      const visible = (s: number) => mask[mBase + s] !== 0;
      softmaxRows(P, T, Tp, scale, visible, allVisible, probs, pHead, tEnd);
    }
    lowerPX(P, v, Tp, HSp, out);
    store(out, HSp, 0, tEnd, HS, y, yOffset + b * T * d + h * HS, d);
  }
}

/** `backward_query`: dscores rows (dS) and dq. */
function backwardQuery(call: HostCall, part: HostPart): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [, , , qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const scale = call.f[0];
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  scratch.shape(T, HS);
  const { Tp, HSp, a: g, b: k, c: v, out, sq: D } = scratch;
  const [first, last] = partRange(Math.ceil(rows / T), part);
  for (let head = first; head < last; head++) {
    const b = Math.floor(head / H), h = head % H;
    const tEnd = Math.min(T, rows - head * T);
    const col = qkvOffset + b * T * d3 + h * HS;
    load(dy, dyOffset + b * T * d + h * HS, d, T, HS, g, Tp, HSp);
    load(qkv, col + d, d3, T, HS, k, Tp, HSp);
    load(qkv, col + 2 * d, d3, T, HS, v, Tp, HSp);
    D.fill(0, 0, Tp * Tp);
    lowerABt(g, v, Tp, HSp, D); // dP = dy·vᵀ
    const pHead = probsOffset + head * T * T;
    const dsHead = dscoresOffset + head * T * T;
    for (let t = 0; t < T; t++) {
      const row = t * Tp, pRow = pHead + t * T;
      let inner = 0;
      for (let s = 0; s <= t; s++) inner += probs[pRow + s] * D[row + s];
      for (let s = 0; s <= t; s++) D[row + s] = probs[pRow + s] * (D[row + s] - inner) * scale;
      D.fill(0, row + t + 1, row + Tp);
      if (t < tEnd) {
        const dsRow = dsHead + t * T;
        for (let s = 0; s < T; s++) dscores[dsRow + s] = D[row + s];
      }
    }
    lowerPX(D, k, Tp, HSp, out); // dq = dS·k
    store(out, HSp, 0, tEnd, HS, dqkv, dqkvOffset + b * T * d3 + h * HS, d3);
  }
}

/** `backward_key`, after backward_query: dk and dv of each key s over the queries t ≥ s. */
function backwardKey(call: HostCall, part: HostPart): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [, , , qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  scratch.shape(T, HS);
  const { Tp, HSp, a: q, b: g, out, out2, sq: M } = scratch;
  const [first, last] = partRange(Math.ceil(rows / T), part);
  for (let head = first; head < last; head++) {
    const b = Math.floor(head / H), h = head % H;
    const sEnd = Math.min(T, rows - head * T);
    load(qkv, qkvOffset + b * T * d3 + h * HS, d3, T, HS, q, Tp, HSp);
    load(dy, dyOffset + b * T * d + h * HS, d, T, HS, g, Tp, HSp);
    // The WGSL reads only t ≥ s: the causal half of dS and P, zeros elsewhere.
    M.fill(0, 0, Tp * Tp);
    const dsHead = dscoresOffset + head * T * T;
    for (let t = 0; t < T; t++) {
      const row = t * Tp, at = dsHead + t * T;
      for (let s = 0; s <= t; s++) M[row + s] = dscores[at + s];
    }
    upperPtX(M, q, Tp, HSp, out); // dk = dSᵀ·q
    const pHead = probsOffset + head * T * T;
    for (let t = 0; t < T; t++) {
      const row = t * Tp, at = pHead + t * T;
      for (let s = 0; s <= t; s++) M[row + s] = probs[at + s];
    }
    upperPtX(M, g, Tp, HSp, out2); // dv = Pᵀ·dy
    const kAt = dqkvOffset + b * T * d3 + d + h * HS;
    store(out, HSp, 0, sEnd, HS, dqkv, kAt, d3);
    store(out2, HSp, 0, sEnd, HS, dqkv, kAt + d, d3);
  }
}

/** Each head's products are small: one BLAS thread runs them faster (linalg/blas_threads.ts). */
const whole = (kernel: HostSplitKernel) => (call: HostCall) =>
  withOneBlasThread(() => kernel(call, WHOLE));

export const attentionKernels = {
  "gpt2_attention#forward": whole(forward),
  "gpt2_attention#backward_query": whole(backwardQuery),
  "gpt2_attention#backward_key": whole(backwardKey),
} as const;

/** By heads, on several threads (src/gpu/host/pool/); the pool keeps BLAS on one thread. */
export const attentionSplitKernels: HostSplitTable = {
  "gpt2_attention#forward": forward,
  "gpt2_attention#backward_query": backwardQuery,
  "gpt2_attention#backward_key": backwardKey,
};
