// Batched GPU ridge solver for Simfluence: all test examples of a study in one preconditioned
// conjugate-gradient solve of (XᵀX + λ_z I)θ_z = Xᵀy_z (MATH.md §2, "Fitting").
//
// The design's sparsity pattern (CSR and CSC) is uploaded once and shared by every test example;
// mat-vecs are matrix-free. Each test example has its own CG scalars and stops on its own
// (α = β = 0 once its relative residual reaches the tolerance). A whole iteration is six
// dispatches recorded without a readback; convergence is read back every `checkEvery` iterations.
// Shaders: shaders/simfluence_solver_*.wgsl. Float64 reference (and the solver used without a GPU):
// ../reference/solver.ts.
import type { HostBuffer } from "../../../gpu/host/host_buffer.ts";
import type { GpuRuntime } from "../../../gpu/runtime.ts";
import type { Tensor } from "../../../gpu/tensor.ts";
import { grid1d, MAX_GROUPS_PER_DIM } from "../../../gpu/kernels/grid.ts";
import { type Design, fittedBlocks } from "../design.ts";
import { paddedTests, SIMFLUENCE_WG, unpadColumns } from "./layout.ts";
import type { SimulatorKind, SolveReport } from "../types.ts";

/** Rows of the per-test-example scalar table (shared with simfluence_solver_cg_scalars.wgsl). */
const ROW = {
  ROW_LAMBDA: 0,
  ROW_BB: 1,
  ROW_RZ: 2,
  ROW_ALPHA: 3,
  ROW_BETA: 4,
  ROW_RR: 5,
  ROW_ACTIVE: 6,
  ROW_ITERS: 7,
  ROW_RELRES: 8,
} as const;
const SCAL_ROWS = 9;
/** Training indices are split into at most this many chunks for the partial dot products. */
const MAX_CHUNKS = 64;

export interface GpuSolveOptions {
  /** Stop a test example when ||r|| <= tol·||b|| (default 1e-5; float32 cannot go much lower). */
  tol?: number;
  /** Iteration cap (default 500). */
  maxIterations?: number;
  /**
   * Read convergence flags back every this many iterations (default 4): iterations past the last
   * test example's convergence cost as much as any other, a readback costs one GPU sync.
   */
  checkEvery?: number;
  /** Checked at every convergence check; an abort throws the signal's reason. */
  signal?: AbortSignal;
  /** Called at every convergence check with the iterations so far and active test examples. */
  onIteration?: (iterations: number, active: number) => void;
}

export class GpuRidgeSolver {
  readonly n: number;
  readonly m: number;
  readonly mP: number;
  private readonly m4: number;
  private readonly rows: number;
  private readonly chunks: number;
  private readonly perChunk: number;
  private readonly csr: GPUBuffer | HostBuffer;
  private readonly csc: GPUBuffer | HostBuffer;
  private readonly csrBase: number;
  private readonly cscBase: number;
  private readonly lprev: Tensor;
  private readonly dy: Tensor;
  private readonly u: Tensor;
  /** The solution, [2, n, mP] (block 0 = A, block 1 = B); kept between solves as a warm start. */
  readonly x: Tensor;
  private readonly b: Tensor;
  private readonly r: Tensor;
  private readonly s: Tensor;
  private readonly p: Tensor;
  private readonly q: Tensor;
  private readonly minv: Tensor;
  private readonly scal: Tensor;
  private readonly partial: Tensor;
  private disposed = false;

  private constructor(private readonly rt: GpuRuntime, private readonly design: Design) {
    const { n, m, rows } = design;
    this.n = n;
    this.m = m;
    this.rows = rows;
    this.mP = paddedTests(m);
    this.m4 = this.mP / 4;
    this.perChunk = Math.max(1, Math.ceil(n / Math.min(MAX_CHUNKS, Math.max(n, 1))));
    this.chunks = Math.max(1, Math.ceil(n / this.perChunk));

    const csr = new Uint32Array(rows + 1 + 2 * design.rowIdx.length);
    csr.set(design.rowPtr, 0);
    this.csrBase = rows + 1;
    for (let k = 0; k < design.rowIdx.length; k++) {
      csr[this.csrBase + 2 * k] = design.rowIdx[k];
      csr[this.csrBase + 2 * k + 1] = design.rowCnt[k];
    }
    const csc = new Uint32Array(n + 1 + 2 * design.colRow.length);
    csc.set(design.colPtr, 0);
    this.cscBase = n + 1;
    for (let k = 0; k < design.colRow.length; k++) {
      csc[this.cscBase + 2 * k] = design.colRow[k];
      csc[this.cscBase + 2 * k + 1] = design.colCnt[k];
    }
    this.csr = rt.u32Storage(csr);
    this.csc = rt.u32Storage(csc);

    const mP = this.mP;
    const pad = (src: Float32Array) => {
      const out = new Float32Array(rows * mP);
      for (let r = 0; r < rows; r++) out.set(src.subarray(r * m, (r + 1) * m), r * mP);
      return out;
    };
    this.lprev = rt.tensor(pad(design.lPrev), [rows, mP]);
    this.dy = rt.tensor(pad(design.dy), [rows, mP]);
    this.u = rt.zeros([rows, mP]);
    const vec = () => rt.zeros([2, n, mP]);
    this.x = vec();
    this.b = vec();
    this.r = vec();
    this.s = vec();
    this.p = vec();
    this.q = vec();
    this.minv = rt.zeros([3, n, mP]);
    this.scal = rt.zeros([SCAL_ROWS, mP]);
    this.partial = rt.zeros([3, this.chunks, mP]);
  }

  /** Uploads the design's structure and losses; the solution starts at 0. */
  static create(rt: GpuRuntime, design: Design): GpuRidgeSolver {
    return new GpuRidgeSolver(rt, design);
  }

  /** Sets the CG starting point from n x m train-major A and B (unseen indices start at 0). */
  setStart(A: Float32Array, B: Float32Array): void {
    const { n, m, mP } = this;
    const x = new Float32Array(2 * n * mP);
    const unseen = new Set(this.design.unseen);
    for (let i = 0; i < n; i++) {
      if (unseen.has(i)) continue;
      x.set(A.subarray(i * m, (i + 1) * m), i * mP);
      x.set(B.subarray(i * m, (i + 1) * m), (n + i) * mP);
    }
    this.rt.write(this.x, x);
  }

  private kernel(shader: string, stage?: number) {
    const defines: Record<string, number> = { WG: SIMFLUENCE_WG, SCAL_ROWS, ...ROW };
    if (stage !== undefined) defines.STAGE = stage;
    return { shader, defines };
  }

  /**
   * Solves for every test example with ridge λ_z = lambda[z] (length m), starting from the current
   * solution (zero, the previous solve's, or setStart's).
   */
  async solve(
    kind: SimulatorKind,
    lambda: ArrayLike<number>,
    options: GpuSolveOptions = {},
  ): Promise<SolveReport> {
    if (this.disposed) throw new Error("GpuRidgeSolver was disposed");
    const [useA, useB] = fittedBlocks(kind);
    const tol = options.tol ?? 1e-5;
    const maxIterations = options.maxIterations ?? 500;
    const checkEvery = Math.max(1, options.checkEvery ?? 4);
    const { rt, n, m, mP, m4, rows, chunks, perChunk } = this;
    if (lambda.length !== m) throw new RangeError(`lambda needs ${m} values`);
    for (let z = 0; z < m; z++) {
      if (!(lambda[z] >= 0) || !Number.isFinite(lambda[z])) {
        throw new RangeError(`lambda[${z}] = ${lambda[z]} must be finite and >= 0`);
      }
    }

    const keys = {
      rows: this.kernel("simfluence_solver_rows"),
      cols: this.kernel("simfluence_solver_cols"),
      precond: this.kernel("simfluence_solver_precond"),
      start: this.kernel("simfluence_solver_cg_start"),
      step: this.kernel("simfluence_solver_cg_step"),
      direction: this.kernel("simfluence_solver_cg_direction"),
      sStart: this.kernel("simfluence_solver_cg_scalars", 0),
      sAlpha: this.kernel("simfluence_solver_cg_scalars", 1),
      sBeta: this.kernel("simfluence_solver_cg_scalars", 2),
      sFinal: this.kernel("simfluence_solver_cg_scalars", 3),
    };
    // Compiled one at a time: concurrent compiles would interleave their error scopes.
    const pl = {} as Record<keyof typeof keys, GPUComputePipeline>;
    for (const name of Object.keys(keys) as (keyof typeof keys)[]) {
      pl[name] = await rt.pipelines.get(keys[name]);
    }

    // Padding lanes get λ = 1 and b = 0, so they are solved (θ = 0) before the first iteration.
    const lam = new Float32Array(mP).fill(1);
    for (let z = 0; z < m; z++) lam[z] = lambda[z];
    rt.write(this.scal.select(ROW.ROW_LAMBDA), lam);

    const laneGroups = Math.ceil(m4 / SIMFLUENCE_WG);
    const rowsGrid: [number, number] = [
      laneGroups,
      Math.min(Math.max(rows, 1), MAX_GROUPS_PER_DIM),
    ];
    const chunkGrid: [number, number] = [laneGroups, chunks];
    const mask = [useA ? 1 : 0, useB ? 1 : 0];
    const chunkParams = { u: [n, m4, perChunk, chunks] };
    const scalarParams = { u: [m4, chunks], f: [tol * tol] };
    const scalarGrid = grid1d(m4, SIMFLUENCE_WG);

    // Inside the CG loop converged test examples skip the mat-vec (skip = 1); the right-hand side
    // and the (re)start residual need every test example (skip = 0).
    const matvec = (v: Tensor, u: Tensor, out: Tensor, addRidge: number, skip: number) => {
      if (u !== this.dy) {
        rt.record(pl.rows, {
          pipeline: keys.rows,
          params: { u: [rows, n, m4, this.csrBase, skip] },
          bindings: [this.csr, this.lprev, v, this.scal, u],
          workgroups: rowsGrid,
        });
      }
      rt.record(pl.cols, {
        pipeline: keys.cols,
        params: { u: [n, m4, this.cscBase, perChunk, chunks, ...mask, addRidge, skip] },
        bindings: [this.csc, this.lprev, u, v, this.scal, out, this.partial],
        workgroups: chunkGrid,
      });
    };

    rt.record(pl.precond, {
      pipeline: keys.precond,
      params: { u: [n, m4, this.cscBase, ...mask] },
      bindings: [this.csc, this.lprev, this.scal, this.minv],
      workgroups: [laneGroups, Math.min(Math.max(n, 1), MAX_GROUPS_PER_DIM)],
    });
    // b = Xᵀy (u = y, no ridge term), then q = (XᵀX + λI)·x0.
    matvec(this.x, this.dy, this.b, 0, 0);
    if (!useA) this.zeroBlock(0);
    if (!useB) this.zeroBlock(1);
    const restart = () => {
      matvec(this.x, this.u, this.q, 1, 0);
      rt.record(pl.start, {
        pipeline: keys.start,
        params: chunkParams,
        bindings: [this.b, this.q, this.minv, this.r, this.s, this.p, this.partial],
        workgroups: chunkGrid,
      });
    };
    restart();
    rt.record(pl.sStart, {
      pipeline: keys.sStart,
      params: scalarParams,
      bindings: [this.partial, this.scal],
      workgroups: scalarGrid,
    });

    const activeRow = this.scal.select(ROW.ROW_ACTIVE);
    let iterations = 0;
    while (iterations < maxIterations) {
      const burst = Math.min(checkEvery, maxIterations - iterations);
      for (let k = 0; k < burst; k++) {
        matvec(this.p, this.u, this.q, 1, 1);
        rt.record(pl.sAlpha, {
          pipeline: keys.sAlpha,
          params: scalarParams,
          bindings: [this.partial, this.scal],
          workgroups: scalarGrid,
        });
        rt.record(pl.step, {
          pipeline: keys.step,
          params: chunkParams,
          bindings: [this.scal, this.p, this.q, this.minv, this.x, this.r, this.s, this.partial],
          workgroups: chunkGrid,
        });
        rt.record(pl.sBeta, {
          pipeline: keys.sBeta,
          params: scalarParams,
          bindings: [this.partial, this.scal],
          workgroups: scalarGrid,
        });
        rt.record(pl.direction, {
          pipeline: keys.direction,
          params: { u: [2 * n * m4, m4] },
          bindings: [this.scal, this.s, this.p],
          workgroups: grid1d(2 * n * m4, SIMFLUENCE_WG),
        });
      }
      iterations += burst;
      const active = await rt.readOne(activeRow);
      options.signal?.throwIfAborted();
      const stillActive = active.reduce((acc, a) => acc + (a > 0 ? 1 : 0), 0);
      options.onIteration?.(iterations, stillActive);
      if (stillActive === 0) break;
    }

    // True residual from a fresh mat-vec (the recursive one drifts in float32).
    restart();
    rt.record(pl.sFinal, {
      pipeline: keys.sFinal,
      params: scalarParams,
      bindings: [this.partial, this.scal],
      workgroups: scalarGrid,
    });
    const [iters, relres, rr, bb] = await rt.read([
      this.scal.select(ROW.ROW_ITERS),
      this.scal.select(ROW.ROW_RELRES),
      this.scal.select(ROW.ROW_RR),
      this.scal.select(ROW.ROW_BB),
    ]);
    const report: SolveReport = {
      solver: "gpu-cg",
      iterations: new Int32Array(m),
      relativeResidual: relres.slice(0, m),
      converged: 0,
    };
    for (let z = 0; z < m; z++) {
      report.iterations[z] = Math.round(iters[z]);
      // Converged: CG's own (recursive) residual met the tolerance; relres is the true one.
      if (rr[z] <= tol * tol * bb[z]) report.converged++;
    }
    return report;
  }

  /** b of an unfitted block is already 0 (masked in the kernel); x0 there must be 0 too. */
  private zeroBlock(block: number): void {
    const { n, mP } = this;
    this.rt.write(this.x.select(block), new Float32Array(n * mP));
  }

  /** The solution as n x m train-major A and B. */
  async readTheta(): Promise<{ A: Float32Array; B: Float32Array }> {
    const { n, m, mP } = this;
    const [a, b] = await this.rt.read([this.x.select(0), this.x.select(1)]);
    return { A: unpadColumns(a, n, m, mP), B: unpadColumns(b, n, m, mP) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (
      const t of [
        this.lprev,
        this.dy,
        this.u,
        this.x,
        this.b,
        this.r,
        this.s,
        this.p,
        this.q,
        this.minv,
        this.scal,
        this.partial,
      ]
    ) t.dispose();
    this.rt.release(this.csr);
    this.rt.release(this.csc);
  }
}
