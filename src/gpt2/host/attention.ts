// CPU port of shaders/gpt2_attention.wgsl: causal multi-head self-attention with a key padding
// mask, `forward`, `backward_query` and `backward_key`. Layouts (elements, from each offset): qkv
// [B, T, 3d] with q | k | v along the last axis and head h in columns h·HS .. h·HS + HS - 1 of
// each; keyMask [B, T] (1 = real token); y, dy [B, T, d]; probs, dscores [B, H, T, T] (row t holds
// keys s, 0 for future or masked keys); dqkv [B, T, 3d]. HS is the pipeline's define and
// scale = 1/sqrt(HS). The GPU runs one invocation per row (b, h, t); here each (b, h) head is
// done at once as small f32 matrix products (OpenBLAS sgemm) straight on the tensors, through
// leading dimensions (3d for qkv and dqkv, d for y and dy, T for probs and dscores): S = scale·q·kᵀ
// into the head's probs rows, softmax in place, y = P·v (forward); dP = dy·vᵀ into the dscores
// rows, dS in place, dq = dS·k (backward_query); dk = dSᵀ·q, dv = Pᵀ·dy (backward_key). Only the
// rows a dispatch covers are computed and written (a partial launch's last head: its first tEnd
// rows). The softmax and dS accumulate in float64. Masked keys, future keys and queries without
// a visible key enter the products as P = 0 and dS = 0, where the WGSL skips them: the same for
// finite q, k, v, dy.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import type { OpenBlas } from "../../linalg/openblas.ts";
import { openBlasLibrary } from "../../linalg/select.ts";
import { covered } from "./grid.ts";
import { softmaxRowsF32 } from "./wasm/softmax.ts";

const LOWEST = -3.4028234663852886e38;
const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

let blas: OpenBlas | null = null;

function library(): OpenBlas {
  blas ??= openBlasLibrary();
  if (!blas) throw new Error("the CPU backend's attention needs OpenBLAS, which did not open");
  return blas;
}

/**
 * C = alpha·op(A)·op(B), row-major f32 at element offsets with leading dimensions (A stored
 * [k, m] when transposed, B stored [n, k] when transposed).
 */
function sgemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  A: Float32Array,
  aAt: number,
  lda: number,
  B: Float32Array,
  bAt: number,
  ldb: number,
  C: Float32Array,
  cAt: number,
  ldc: number,
): void {
  library().symbols.cblas_sgemm(
    ROW_MAJOR,
    transA ? TRANS : NO_TRANS,
    transB ? TRANS : NO_TRANS,
    m,
    n,
    k,
    alpha,
    A.subarray(aAt),
    lda,
    B.subarray(bAt),
    ldb,
    0,
    C.subarray(cAt),
    ldc,
  );
}

/** One row's exponentials (float64) and a head's lower triangle when it must be copied. */
let rowScratch = new Float64Array(0);
let squareScratch = new Float32Array(0);

function rowOf(T: number): Float64Array {
  if (rowScratch.length < T) rowScratch = new Float64Array(T);
  return rowScratch;
}

/** The masked keys of a batch row. */
let maskedScratch = new Int32Array(0);

function maskedOf(T: number): Int32Array {
  if (maskedScratch.length < T) maskedScratch = new Int32Array(T);
  return maskedScratch;
}

/**
 * The head's [T, T] matrix at `at` (row stride T) as an operand whose entries above the
 * diagonal are 0, which the WGSL never reads: the tensor itself when they already are (what
 * forward and backward_query write), otherwise a copy of its lower triangle. Returns the array
 * and the offset to read it at.
 */
function lowerTriangle(src: Float32Array, at: number, T: number): [Float32Array, number] {
  let zero = true;
  for (let t = 0; t < T - 1 && zero; t++) {
    const row = at + t * T;
    for (let s = t + 1; s < T; s++) {
      if (src[row + s] !== 0) {
        zero = false;
        break;
      }
    }
  }
  if (zero) return [src, at];
  if (squareScratch.length < T * T) squareScratch = new Float32Array(T * T);
  const M = squareScratch;
  for (let t = 0; t < T; t++) {
    const row = t * T, from = at + row;
    for (let s = 0; s <= t; s++) M[row + s] = src[from + s];
    M.fill(0, row + t + 1, row + T);
  }
  return [M, 0];
}

/** The launch's shape: rows [0, rows) of B·H·T are computed (all of them, for grid1d). */
function shapeOf(call: HostCall) {
  const [B, T, H] = call.u;
  const HS = Number(call.defines.HS);
  const d = H * HS;
  return { B, T, H, HS, d, d3: 3 * d, rows: covered(call, B * H * T) };
}

/**
 * The softmax rows' scalar loop (where WebAssembly SIMD is unavailable): rows t < tEnd of the
 * head's probs hold scores; each becomes its probabilities over the visible keys s ≤ t, 0 past t.
 */
function softmaxRows(
  probs: Float32Array,
  pHead: number,
  T: number,
  tEnd: number,
  mask: Float32Array,
  mBase: number,
  allVisible: boolean,
  E: Float64Array,
): void {
  for (let t = 0; t < tEnd; t++) {
    const row = pHead + t * T;
    let m = LOWEST;
    if (allVisible) {
      for (let s = 0; s <= t; s++) {
        const score = probs[row + s];
        E[s] = score;
        if (score > m) m = score;
      }
    } else {
      for (let s = 0; s <= t; s++) {
        if (mask[mBase + s] === 0) {
          E[s] = -Infinity;
          continue;
        }
        const score = probs[row + s];
        E[s] = score;
        if (score > m) m = score;
      }
    }
    let sum = 0;
    for (let s = 0; s <= t; s++) {
      // A masked key holds -∞: its e is exactly 0, as it is absent from the WGSL's sums.
      const e = Math.exp(E[s] - m);
      E[s] = e;
      sum += e;
    }
    // No visible key: probabilities and output stay 0.
    const inv = sum > 0 ? 1 / sum : 0;
    for (let s = 0; s <= t; s++) probs[row + s] = E[s] * inv;
    probs.fill(0, row + t + 1, row + T);
  }
}

/** `forward`: probs rows and y from qkv and the key mask. */
function forward(call: HostCall): void {
  const [qkvBuf, maskBuf, yBuf, probsBuf] = call.buffers;
  const qkv = qkvBuf.f32, mask = maskBuf.f32, y = yBuf.f32, probs = probsBuf.f32;
  const [, , , qkvOffset, maskOffset, yOffset, probsOffset] = call.u;
  const scale = call.f[0];
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  const E = rowOf(T);
  const masked = maskedOf(T);
  for (let head = 0; head * T < rows; head++) {
    const b = Math.floor(head / H), h = head % H;
    const tEnd = Math.min(T, rows - head * T);
    const col = qkvOffset + b * T * d3 + h * HS;
    const pHead = probsOffset + head * T * T;
    // S = scale·q·kᵀ over the covered queries and the keys they may see (s < tEnd).
    sgemm(false, true, tEnd, tEnd, HS, scale, qkv, col, d3, qkv, col + d, d3, probs, pHead, T);
    const mBase = maskOffset + b * T;
    // The masked keys of this batch row, ascending (none in the common case).
    let maskedCount = 0;
    for (let s = 0; s < T; s++) if (mask[mBase + s] === 0) masked[maskedCount++] = s;
    if (!softmaxRowsF32(probs, pHead, T, tEnd, masked, maskedCount)) {
      softmaxRows(probs, pHead, T, tEnd, mask, mBase, maskedCount === 0, E);
    }
    // y = P·v over the covered queries (P is 0 beyond each row's diagonal).
    const yAt = yOffset + b * T * d + h * HS;
    sgemm(false, false, tEnd, HS, tEnd, 1, probs, pHead, T, qkv, col + 2 * d, d3, y, yAt, d);
  }
}

/** `backward_query`: dscores rows (dS) and dq. */
function backwardQuery(call: HostCall): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [, , , qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const scale = call.f[0];
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  for (let head = 0; head * T < rows; head++) {
    const b = Math.floor(head / H), h = head % H;
    const tEnd = Math.min(T, rows - head * T);
    const col = qkvOffset + b * T * d3 + h * HS;
    const pHead = probsOffset + head * T * T;
    const dsHead = dscoresOffset + head * T * T;
    // dP = dy·vᵀ over the covered queries and the keys they may see, into the dscores rows.
    const gAt = dyOffset + b * T * d + h * HS;
    sgemm(false, true, tEnd, tEnd, HS, 1, dy, gAt, d, qkv, col + 2 * d, d3, dscores, dsHead, T);
    for (let t = 0; t < tEnd; t++) {
      const dsRow = dsHead + t * T, pRow = pHead + t * T;
      let inner = 0;
      for (let s = 0; s <= t; s++) inner += probs[pRow + s] * dscores[dsRow + s];
      for (let s = 0; s <= t; s++) {
        dscores[dsRow + s] = probs[pRow + s] * (dscores[dsRow + s] - inner) * scale;
      }
      dscores.fill(0, dsRow + t + 1, dsRow + T);
    }
    // dq = dS·k (dS is 0 beyond each row's diagonal).
    const dqAt = dqkvOffset + b * T * d3 + h * HS;
    sgemm(false, false, tEnd, HS, tEnd, 1, dscores, dsHead, T, qkv, col + d, d3, dqkv, dqAt, d3);
  }
}

/** `backward_key`, after backward_query: dk and dv of each key s over the queries t ≥ s. */
function backwardKey(call: HostCall): void {
  const [qkvBuf, probsBuf, dyBuf, dscoresBuf, dqkvBuf] = call.buffers;
  const qkv = qkvBuf.f32, probs = probsBuf.f32, dy = dyBuf.f32;
  const dscores = dscoresBuf.f32, dqkv = dqkvBuf.f32;
  const [, , , qkvOffset, probsOffset, dyOffset, dscoresOffset, dqkvOffset] = call.u;
  const { T, H, HS, d, d3, rows } = shapeOf(call);
  for (let head = 0; head * T < rows; head++) {
    const b = Math.floor(head / H), h = head % H;
    const sEnd = Math.min(T, rows - head * T);
    const qAt = qkvOffset + b * T * d3 + h * HS;
    const gAt = dyOffset + b * T * d + h * HS;
    const kAt = dqkvOffset + b * T * d3 + d + h * HS;
    // The WGSL reads only t ≥ s: the causal half of dS and P, zeros elsewhere.
    const [S, sAt] = lowerTriangle(dscores, dscoresOffset + head * T * T, T);
    sgemm(true, false, sEnd, HS, T, 1, S, sAt, T, qkv, qAt, d3, dqkv, kAt, d3); // dk = dSᵀ·q
    const [P, pAt] = lowerTriangle(probs, probsOffset + head * T * T, T);
    sgemm(true, false, sEnd, HS, T, 1, P, pAt, T, dy, gAt, d, dqkv, kAt + d, d3); // dv = Pᵀ·dy
  }
}

export const attentionKernels = {
  "gpt2_attention#forward": forward,
  "gpt2_attention#backward_query": backwardQuery,
  "gpt2_attention#backward_key": backwardKey,
} as const;
