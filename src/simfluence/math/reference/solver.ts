// Plain-TypeScript float64 reference solvers for the per-test-example ridge problem
//   min_θ Σ_rows (y - xᵀθ)² + λ_z ||θ||²,  x = [L_{t-1}·c_t, c_t],  θ = (A, B)
// restricted to the kind's blocks. Two methods:
// - Cholesky on the dense normal equations: exact, the reference for tests (fine for small n);
// - conjugate gradient with 2x2 block-Jacobi preconditioning, the same algorithm as the GPU
//   solver (../kernels/solver.ts), as the plain-TypeScript baseline at sizes where O(n³) per
//   test example is too slow; its cooperative form (same numbers) is the service's solver when
//   there is no GPU.
import { linearAlgebra } from "../../../linalg/select.ts";
import { type Design, fittedBlocks } from "../design.ts";
import { TimeSlice } from "../time_slice.ts";
import type { SimulatorKind } from "../types.ts";

/** Solutions for a list of test examples: A and B as n x k train-major (column j = zs[j]). */
export interface CpuSolution {
  zs: number[];
  A: Float64Array;
  B: Float64Array;
  iterations: Int32Array;
  relativeResidual: Float64Array;
}

interface Column {
  l: Float64Array;
  y: Float64Array;
}

function column(design: Design, z: number): Column {
  const { rows, m } = design;
  const l = new Float64Array(rows);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    l[r] = design.lPrev[r * m + z];
    y[r] = design.dy[r * m + z];
  }
  return { l, y };
}

function allTests(design: Design, zs?: readonly number[]): number[] {
  return zs ? [...zs] : Array.from({ length: design.m }, (_, z) => z);
}

/** Xᵀ·u into out (length 2n: A block then B block), masked to the fitted blocks. */
function applyXt(
  design: Design,
  l: Float64Array,
  u: Float64Array,
  useA: boolean,
  useB: boolean,
  out: Float64Array,
): void {
  const n = design.n;
  out.fill(0);
  for (let r = 0; r < design.rows; r++) {
    const ur = u[r];
    const lr = l[r];
    for (let k = design.rowPtr[r]; k < design.rowPtr[r + 1]; k++) {
      const i = design.rowIdx[k];
      const c = design.rowCnt[k];
      if (useA) out[i] += c * lr * ur;
      if (useB) out[n + i] += c * ur;
    }
  }
}

/** X·v into u (length rows), v holding the A block then the B block. */
function applyX(design: Design, l: Float64Array, v: Float64Array, u: Float64Array): void {
  const n = design.n;
  for (let r = 0; r < design.rows; r++) {
    let sa = 0;
    let sb = 0;
    for (let k = design.rowPtr[r]; k < design.rowPtr[r + 1]; k++) {
      const i = design.rowIdx[k];
      const c = design.rowCnt[k];
      sa += c * v[i];
      sb += c * v[n + i];
    }
    u[r] = l[r] * sa + sb;
  }
}

export function solveCholeskyCpu(
  design: Design,
  kind: SimulatorKind,
  lambda: ArrayLike<number>,
  zs?: readonly number[],
): CpuSolution {
  const [useA, useB] = fittedBlocks(kind);
  const { n, rows } = design;
  const tests = allTests(design, zs);
  const k = tests.length;
  const blocks: number[] = [];
  if (useA) blocks.push(0);
  if (useB) blocks.push(1);
  const dim = blocks.length * n;
  // Unknown position of (block, i) in the packed system.
  const pos = (block: number, i: number) => (useA && useB ? block * n + i : i);
  const out: CpuSolution = {
    zs: tests,
    A: new Float64Array(n * k),
    B: new Float64Array(n * k),
    iterations: new Int32Array(k),
    relativeResidual: new Float64Array(k),
  };
  const N = new Float64Array(dim * dim);
  const rhs = new Float64Array(dim);
  const la = linearAlgebra();
  tests.forEach((z, j) => {
    const { l, y } = column(design, z);
    N.fill(0);
    rhs.fill(0);
    for (let r = 0; r < rows; r++) {
      const lr = l[r];
      // Row weights per block: A entries carry L_{t-1}, B entries carry 1.
      const w = [lr, 1];
      for (let a = design.rowPtr[r]; a < design.rowPtr[r + 1]; a++) {
        const ia = design.rowIdx[a];
        const ca = design.rowCnt[a];
        for (const ba of blocks) {
          const pa = pos(ba, ia);
          rhs[pa] += ca * w[ba] * y[r];
          for (let b = design.rowPtr[r]; b < design.rowPtr[r + 1]; b++) {
            const ib = design.rowIdx[b];
            const cb = design.rowCnt[b];
            for (const bb of blocks) {
              N[pa * dim + pos(bb, ib)] += ca * cb * w[ba] * w[bb];
            }
          }
        }
      }
    }
    const lam = lambda[z];
    for (let d = 0; d < dim; d++) {
      // An unseen index has an all-zero row; pinning its diagonal keeps the system solvable
      // at λ = 0 and leaves its parameter at 0 (its right-hand side is 0).
      N[d * dim + d] += N[d * dim + d] === 0 && lam === 0 ? 1 : lam;
    }
    const b0 = rhs.slice();
    // dpotrf/dpotrs with OpenBLAS, the loops of choleskySolveInPlace without (src/linalg/).
    if (!la.cholesky(N, dim)) throw new Error("normal matrix is not positive definite");
    la.choleskySolve(N, dim, rhs);
    for (let i = 0; i < n; i++) {
      if (useA) out.A[i * k + j] = rhs[pos(0, i)];
      if (useB) out.B[i * k + j] = rhs[pos(1, i)];
    }
    out.relativeResidual[j] = trueResidual(design, l, b0, out, j, k, lam, useA, useB);
  });
  return out;
}

function trueResidual(
  design: Design,
  l: Float64Array,
  packedRhs: Float64Array,
  sol: CpuSolution,
  j: number,
  k: number,
  lam: number,
  useA: boolean,
  useB: boolean,
): number {
  const n = design.n;
  const theta = new Float64Array(2 * n);
  const b = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    theta[i] = sol.A[i * k + j];
    theta[n + i] = sol.B[i * k + j];
    if (useA) b[i] = packedRhs[i];
    if (useB) b[n + i] = packedRhs[useA ? n + i : i];
  }
  const u = new Float64Array(design.rows);
  const q = new Float64Array(2 * n);
  applyX(design, l, theta, u);
  applyXt(design, l, u, useA, useB, q);
  let rr = 0;
  let bb = 0;
  for (let d = 0; d < 2 * n; d++) {
    const res = b[d] - q[d] - lam * theta[d];
    rr += res * res;
    bb += b[d] * b[d];
  }
  return bb > 0 ? Math.sqrt(rr / bb) : 0;
}

/** Solves N x = b for symmetric positive definite N (row-major, overwritten), b in place. */
export function choleskySolveInPlace(N: Float64Array, b: Float64Array, dim: number): void {
  for (let j = 0; j < dim; j++) {
    let d = N[j * dim + j];
    for (let k = 0; k < j; k++) d -= N[j * dim + k] ** 2;
    if (!(d > 0)) throw new Error(`normal matrix is not positive definite (pivot ${j})`);
    const ljj = Math.sqrt(d);
    N[j * dim + j] = ljj;
    for (let i = j + 1; i < dim; i++) {
      let s = N[i * dim + j];
      for (let k = 0; k < j; k++) s -= N[i * dim + k] * N[j * dim + k];
      N[i * dim + j] = s / ljj;
    }
  }
  for (let i = 0; i < dim; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= N[i * dim + k] * b[k];
    b[i] = s / N[i * dim + i];
  }
  for (let i = dim - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < dim; k++) s -= N[k * dim + i] * b[k];
    b[i] = s / N[i * dim + i];
  }
}

export interface CgOptions {
  tol?: number;
  maxIterations?: number;
  /** Called as each test example's solve finishes, with how many are done of how many. */
  onColumn?: (done: number, of: number) => void;
}

/**
 * Inverse of each training index's 2x2 diagonal block of XᵀX + λI, as (inv_AA, inv_AB, inv_BB)
 * per index; a block of an unfitted kind is dropped (its entries are 0).
 */
export function blockJacobi(
  design: Design,
  l: Float64Array,
  lam: number,
  useA: boolean,
  useB: boolean,
): Float64Array {
  const n = design.n;
  const inv = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    let aa = 0;
    let ab = 0;
    let bb = 0;
    for (let k = design.colPtr[i]; k < design.colPtr[i + 1]; k++) {
      const c2 = design.colCnt[k] ** 2;
      const lr = l[design.colRow[k]];
      aa += c2 * lr * lr;
      ab += c2 * lr;
      bb += c2;
    }
    aa += lam;
    bb += lam;
    if (useA && useB) {
      const det = aa * bb - ab * ab;
      if (det > 0) {
        inv[3 * i] = bb / det;
        inv[3 * i + 1] = -ab / det;
        inv[3 * i + 2] = aa / det;
      }
    } else if (useA) {
      inv[3 * i] = aa > 0 ? 1 / aa : 0;
    } else {
      inv[3 * i + 2] = bb > 0 ? 1 / bb : 0;
    }
  }
  return inv;
}

/**
 * Preconditioned CG per test example, float64, matrix-free, as steps: the generator yields after
 * every pass over the design (a few per CG iteration) and every finished test example, and
 * returns the solution. The synchronous and the cooperative solvers below drive the same steps,
 * so their numbers are identical.
 */
function* cgSteps(
  design: Design,
  kind: SimulatorKind,
  lambda: ArrayLike<number>,
  zs: readonly number[] | undefined,
  options: CgOptions,
): Generator<void, CpuSolution, void> {
  const [useA, useB] = fittedBlocks(kind);
  const tol = options.tol ?? 1e-8;
  const maxIterations = options.maxIterations ?? 1000;
  const { n, rows } = design;
  const tests = allTests(design, zs);
  const k = tests.length;
  const out: CpuSolution = {
    zs: tests,
    A: new Float64Array(n * k),
    B: new Float64Array(n * k),
    iterations: new Int32Array(k),
    relativeResidual: new Float64Array(k),
  };
  const dim = 2 * n;
  const x = new Float64Array(dim);
  const r = new Float64Array(dim);
  const s = new Float64Array(dim);
  const p = new Float64Array(dim);
  const q = new Float64Array(dim);
  const b = new Float64Array(dim);
  const u = new Float64Array(rows);
  const precondition = (inv: Float64Array) => {
    for (let i = 0; i < n; i++) {
      s[i] = inv[3 * i] * r[i] + inv[3 * i + 1] * r[n + i];
      s[n + i] = inv[3 * i + 1] * r[i] + inv[3 * i + 2] * r[n + i];
    }
  };
  const dot = (a: Float64Array, c: Float64Array) => {
    let acc = 0;
    for (let d = 0; d < dim; d++) acc += a[d] * c[d];
    return acc;
  };
  for (const [j, z] of tests.entries()) {
    // Each pass over the design (O(nnz)) ends in a yield: with a study's worth of training ids,
    // one pass is already a noticeable time on the service's only thread.
    const { l, y } = column(design, z);
    const lam = lambda[z];
    const inv = blockJacobi(design, l, lam, useA, useB);
    yield;
    applyXt(design, l, y, useA, useB, b);
    yield;
    x.fill(0);
    r.set(b);
    precondition(inv);
    p.set(s);
    let rz = dot(r, s);
    const bb = dot(b, b);
    let iter = 0;
    while (iter < maxIterations && dot(r, r) > tol * tol * bb) {
      applyX(design, l, p, u);
      yield;
      applyXt(design, l, u, useA, useB, q);
      for (let d = 0; d < dim; d++) q[d] += lam * p[d];
      const pq = dot(p, q);
      if (!(pq > 0)) break;
      const alpha = rz / pq;
      for (let d = 0; d < dim; d++) {
        x[d] += alpha * p[d];
        r[d] -= alpha * q[d];
      }
      precondition(inv);
      const rzNew = dot(r, s);
      const beta = rzNew / rz;
      rz = rzNew;
      for (let d = 0; d < dim; d++) p[d] = s[d] + beta * p[d];
      iter++;
      yield;
    }
    for (let i = 0; i < n; i++) {
      out.A[i * k + j] = x[i];
      out.B[i * k + j] = x[n + i];
    }
    out.iterations[j] = iter;
    applyX(design, l, x, u);
    yield;
    applyXt(design, l, u, useA, useB, q);
    let rr = 0;
    for (let d = 0; d < dim; d++) rr += (b[d] - q[d] - lam * x[d]) ** 2;
    out.relativeResidual[j] = bb > 0 ? Math.sqrt(rr / bb) : 0;
    options.onColumn?.(j + 1, k);
    yield;
  }
  return out;
}

/** Preconditioned CG per test example, float64, matrix-free; blocks until done (reference). */
export function solveCgCpu(
  design: Design,
  kind: SimulatorKind,
  lambda: ArrayLike<number>,
  zs?: readonly number[],
  options: CgOptions = {},
): CpuSolution {
  const steps = cgSteps(design, kind, lambda, zs, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export interface CooperativeCgOptions extends CgOptions {
  /** Checked at every turn given to the event loop; an abort throws the signal's reason. */
  signal?: AbortSignal;
  /** Work between two turns of the event loop (default DEFAULT_SLICE_MS). */
  sliceMs?: number;
}

/**
 * `solveCgCpu` with the same numbers, but giving the event loop a turn every `sliceMs` of work:
 * the service's fallback solver runs on its only thread and must not stall requests or ignore a
 * cancelled job until the solve ends.
 */
export async function solveCgCpuCooperative(
  design: Design,
  kind: SimulatorKind,
  lambda: ArrayLike<number>,
  zs?: readonly number[],
  options: CooperativeCgOptions = {},
): Promise<CpuSolution> {
  const slice = new TimeSlice(options.signal, options.sliceMs);
  const steps = cgSteps(design, kind, lambda, zs, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (slice.due) await slice.yield();
  }
}
