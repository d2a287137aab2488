// The CPU backend's matmul: OpenBLAS's multithreaded cblas_sgemm over the same resolved problem
// (offsets and strides) that the WGSL kernels take. A strided operand that BLAS cannot address
// (neither axis unit-stride) is packed first; a batch folds into one call where a's batches are
// contiguous rows and b is shared, which is how the models' linear layers look.
import { openBlasLibrary } from "../../linalg/select.ts";
import type { OpenBlas } from "../../linalg/openblas.ts";
import type { MatmulOptions, MatmulProblem } from "../kernels/matmul_problem.ts";
import type { Tensor } from "../tensor.ts";
import { HostBuffer } from "./host_buffer.ts";

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/** How BLAS reads one operand: rows × cols at `off`, transposed storage or not, leading dim. */
interface Operand {
  data: Float32Array;
  off: number;
  trans: boolean;
  ld: number;
}

/**
 * A [rows, cols] view with strides (sRow, sCol) as a BLAS operand, packing it when neither axis
 * is unit-stride. An axis of length 1 may carry any stride, so it is free to be either.
 */
function operand(
  data: Float32Array,
  off: number,
  rows: number,
  cols: number,
  sRow: number,
  sCol: number,
): Operand {
  if ((sCol === 1 || cols <= 1) && (sRow >= cols || rows <= 1)) {
    return { data, off, trans: false, ld: Math.max(1, cols, rows <= 1 ? cols : sRow) };
  }
  if ((sRow === 1 || rows <= 1) && (sCol >= rows || cols <= 1)) {
    return { data, off, trans: true, ld: Math.max(1, rows, cols <= 1 ? rows : sCol) };
  }
  const packed = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) packed[r * cols + c] = data[off + r * sRow + c * sCol];
  }
  return { data: packed, off: 0, trans: false, ld: Math.max(1, cols) };
}

/**
 * Throws unless every element BLAS will read of a rows × cols operand lies inside its array: a
 * pointer past the end would read (or, for c, write) foreign memory instead of failing.
 */
function checkReach(name: string, op: Operand, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return;
  const [outer, inner] = op.trans ? [cols, rows] : [rows, cols];
  const end = op.off + (outer - 1) * op.ld + inner;
  if (op.off < 0 || end > op.data.length) {
    throw new RangeError(`matmul: ${name} reaches float ${end}, has ${op.data.length}`);
  }
}

let blas: OpenBlas | null = null;

function library(): OpenBlas {
  blas ??= openBlasLibrary();
  if (!blas) throw new Error("the CPU backend's matmul needs OpenBLAS, which did not open");
  return blas;
}

function hostData(t: Tensor, name: string): Float32Array {
  if (!(t.buffer instanceof HostBuffer)) throw new Error(`matmul: ${name} is not in host memory`);
  return t.buffer.f32;
}

function sgemm(
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Operand,
  b: Operand,
  beta: number,
  c: Float32Array,
  cOff: number,
): void {
  checkReach("a", a, m, k);
  checkReach("b", b, k, n);
  if (m > 0 && n > 0 && cOff + m * n > c.length) {
    throw new RangeError(`matmul: out needs ${cOff + m * n} floats, has ${c.length}`);
  }
  library().symbols.cblas_sgemm(
    ROW_MAJOR,
    a.trans ? TRANS : NO_TRANS,
    b.trans ? TRANS : NO_TRANS,
    m,
    n,
    k,
    alpha,
    a.data.subarray(a.off),
    a.ld,
    b.data.subarray(b.off),
    b.ld,
    beta,
    c.subarray(cOff),
    Math.max(1, n),
  );
}

/** out = alpha · a·b (+ bias) (+ out if accumulate), as matmul() documents. */
export function hostMatmul(
  p: MatmulProblem,
  a: Tensor,
  b: Tensor,
  out: Tensor,
  options: MatmulOptions,
): void {
  const { batch, M, N, K } = p;
  const A = hostData(a, "a"), B = hostData(b, "b"), C = hostData(out, "out");
  const alpha = options.alpha ?? 1;
  let beta = options.accumulate ? 1 : 0;
  if (options.bias) {
    const bias = hostData(options.bias, "bias").subarray(
      options.bias.offset,
      options.bias.offset + N,
    );
    for (let row = 0; row < batch * M; row++) {
      const at = p.outOff + row * N;
      if (beta === 0) C.set(bias, at);
      else for (let j = 0; j < N; j++) C[at + j] += bias[j];
    }
    beta = 1;
  }
  if (K === 0) {
    if (beta === 0) C.fill(0, p.outOff, p.outOff + batch * M * N);
    return;
  }
  // Batches of a that follow each other as rows, times one shared b: one [batch·M, K] GEMM.
  const foldable = batch > 1 && p.b.sb === 0 && p.a.sk === 1 && p.a.sb === M * p.a.sm;
  if (batch === 1 || foldable) {
    const rows = batch * M;
    const opA = operand(A, p.a.off, rows, K, p.a.sm, p.a.sk);
    const opB = operand(B, p.b.off, K, N, p.b.sk, p.b.sn);
    sgemm(rows, N, K, alpha, opA, opB, beta, C, p.outOff);
    return;
  }
  for (let i = 0; i < batch; i++) {
    const opA = operand(A, p.a.off + i * p.a.sb, M, K, p.a.sm, p.a.sk);
    const opB = operand(B, p.b.off + i * p.b.sb, K, N, p.b.sk, p.b.sn);
    sgemm(M, N, K, alpha, opA, opB, beta, C, p.outOff + i * M * N);
  }
}
