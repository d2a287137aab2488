// Fitting Simfluence-Linear / -Additive / -Multiplicative for a study (MATH.md §2): teacher-forced
// ridge regression per test example, solved for all test examples at once on the GPU (or by the
// CPU reference), with λ chosen on validation runs when asked.
//
// λ is given as a factor relative to each test example's mean squared design-row norm, so one
// factor suits test examples whose losses differ in scale: λ_z = factor · mean_rows ||x_row(z)||².
import type { GpuRuntime } from "../../gpu/runtime.ts";
import { FitPace, type FitProgress } from "./fit_pace.ts";
import { SimfluenceInputError, toCurriculumCooperative } from "./curriculum.ts";
import { solveCgCpuCooperative, solveCholeskyCpu } from "./reference/solver.ts";
import { buildDesignCooperative, type Design, meanRowNormSqSteps } from "./design.ts";
import { GpuRidgeSolver, type GpuSolveOptions } from "./kernels/solver.ts";
import { pooledMetrics } from "./metrics.ts";
import { rolloutGpu } from "./kernels/simulate.ts";
import { rolloutCpuCooperative } from "./reference/simulate.ts";
import { runCooperatively, TimeSlice } from "./time_slice.ts";
import type { Run, SimulatorKind, SimulatorParams, SolveReport, StudyUniverse } from "./types.ts";

export type RidgeKind = Exclude<SimulatorKind, "scores">;
export type RidgeSolverChoice = "gpu" | "cpu-cg" | "cpu-cholesky";

/** Factors tried by "auto", largest first so each solve warm-starts the next, harder one. */
export const DEFAULT_LAMBDA_GRID = [1e2, 1e1, 1, 1e-1, 1e-2, 1e-3, 1e-4];
/** Used by "auto" when there are too few runs to hold any out. */
export const FALLBACK_LAMBDA_FACTOR = 1e-2;

export interface FitOptions extends GpuSolveOptions {
  kind: RidgeKind;
  /** A ridge factor (see above) or "auto" (default): the grid value with the lowest validation MSE. */
  lambdaFactor?: number | "auto";
  lambdaGrid?: readonly number[];
  /**
   * "auto" stops once the validation MSE has risen this many grid points in a row past its best
   * (default 1): the grid runs from strong to weak regularisation, the held-out error is U-shaped
   * along it, and the weakest factors are the slowest to solve.
   */
  lambdaPatience?: number;
  /**
   * Tolerance of the λ trials (default max(tol, 1e-4)): they only rank factors by validation
   * MSE, which does not move at the last digits; the refit uses `tol`.
   */
  trialTol?: number;
  /** Indices into `runs` held out while choosing λ; default the last ⌈20 %⌉ (at least one). */
  validationRuns?: readonly number[];
  /** Default "gpu" when a runtime is given, else "cpu-cg". */
  solver?: RidgeSolverChoice;
  /** Progress over the whole fit: each λ trial and the final solve count as one solve. */
  onProgress?: (progress: FitProgress) => void;
}

export type { FitProgress } from "./fit_pace.ts";

export interface LambdaTrial {
  factor: number;
  /** Pooled all-steps MSE of the rollout on the validation runs. */
  validationMse: number;
  maxIterations: number;
  seconds: number;
}

export interface FitResult {
  params: SimulatorParams;
  report: SolveReport;
  lambdaSelection: "fixed" | "auto" | "fallback-too-few-runs";
  lambdaTrials: LambdaTrial[];
  seconds: number;
}

/** A ridge backend over one design: solve at a factor, warm-starting from the last solution. */
interface Backend {
  solve(factor: number, options: GpuSolveOptions): Promise<SolveReport>;
  theta(): Promise<{ A: Float32Array; B: Float32Array }>;
  /** Pooled all-steps MSE of rollouts of `runs` with the current solution. */
  validate(runs: readonly Run[]): Promise<number>;
  setStart(A: Float32Array, B: Float32Array): void;
  dispose(): void;
}

/** λ_z for a factor, from the design's mean squared row norms (the same for every factor). */
function lambdas(norms: Float64Array, factor: number): Float64Array {
  return norms.map((v) => factor * (v > 0 ? v : 1));
}

function validationMse(
  runs: readonly Run[],
  m: number,
  predicted: readonly Float32Array[],
): number {
  return pooledMetrics(
    runs.map((run, r) => ({ predicted: predicted[r], observed: run.losses, tests: m })),
  ).pooled.allStepsMse;
}

/** Solve options (tolerance, cap, signal, progress) come with each `solve` call. */
function gpuBackend(
  rt: GpuRuntime,
  design: Design,
  kind: RidgeKind,
  norms: Float64Array,
  slice: TimeSlice,
): Backend {
  const solver = GpuRidgeSolver.create(rt, design);
  const { n, m } = design;
  return {
    solve: (factor, solveOptions) => solver.solve(kind, lambdas(norms, factor), solveOptions),
    theta: () => solver.readTheta(),
    setStart: (A, B) => solver.setStart(A, B),
    async validate(runs) {
      const rolloutRuns = [];
      for (const run of runs) {
        rolloutRuns.push({
          curriculum: await toCurriculumCooperative(run.batches, n, true, slice),
          initial: run.losses.subarray(0, m),
        });
      }
      const steps = Math.max(...runs.map((r) => r.batches.length));
      const predicted = runs.map((run) => {
        const out = new Float32Array(run.losses.length);
        out.set(run.losses.subarray(0, m));
        return out;
      });
      for await (
        const chunk of rolloutGpu(rt, solver.x, n, m, rolloutRuns, { chunkSteps: steps })
      ) {
        chunk.losses.forEach((l, r) => predicted[r].set(l, chunk.tStart * m));
      }
      return validationMse(runs, m, predicted);
    },
    dispose: () => solver.dispose(),
  };
}

function cpuBackend(
  design: Design,
  kind: RidgeKind,
  method: "cpu-cg" | "cpu-cholesky",
  options: GpuSolveOptions,
  norms: Float64Array,
  slice: TimeSlice,
): Backend {
  const { n, m } = design;
  let A = new Float32Array(n * m);
  let B = new Float32Array(n * m);
  return {
    async solve(factor, solveOptions) {
      solveOptions.signal?.throwIfAborted();
      const lam = lambdas(norms, factor);
      const tol = solveOptions.tol ?? options.tol ?? 1e-8;
      // CG is the service's fallback solver: cooperative, so it neither stalls the event loop
      // nor outlives a cancelled job. Cholesky is only for small reference fits.
      const sol = method === "cpu-cholesky"
        ? solveCholeskyCpu(design, kind, lam)
        : await solveCgCpuCooperative(design, kind, lam, undefined, {
          tol,
          maxIterations: options.maxIterations,
          signal: solveOptions.signal,
          onColumn: (done, of) => solveOptions.onIteration?.(0, of - done),
        });
      A = Float32Array.from(sol.A);
      B = Float32Array.from(sol.B);
      const relres = Float32Array.from(sol.relativeResidual);
      return {
        solver: method,
        iterations: sol.iterations,
        relativeResidual: relres,
        converged: method === "cpu-cholesky" ? m : relres.filter((v) => v <= tol).length,
      };
    },
    theta: () => Promise.resolve({ A, B }),
    // The CPU methods here start from zero (Cholesky needs no start; CG is cheap per example).
    setStart: () => {},
    async validate(runs) {
      const zs = Array.from({ length: m }, (_, z) => z);
      const predicted = [];
      for (const run of runs) {
        const curriculum = await toCurriculumCooperative(run.batches, n, true, slice);
        predicted.push(
          await rolloutCpuCooperative({ n, m, A, B }, curriculum, run.losses, zs, slice),
        );
      }
      return validationMse(runs, m, predicted);
    },
    dispose: () => {},
  };
}

function defaultValidation(runs: number): number[] {
  const count = Math.max(1, Math.ceil(runs * 0.2));
  return Array.from({ length: count }, (_, k) => runs - count + k);
}

export async function fitSimulator(
  rt: GpuRuntime | null,
  universe: StudyUniverse,
  runs: readonly Run[],
  options: FitOptions,
): Promise<FitResult> {
  const started = performance.now();
  const n = universe.trainIds.length;
  const m = universe.testIds.length;
  const kind = options.kind;
  if (!["linear", "additive", "multiplicative"].includes(kind)) {
    throw new SimfluenceInputError(`kind "${kind}" is not fitted by ridge regression`);
  }
  const method = options.solver ?? (rt ? "gpu" : "cpu-cg");
  if (method === "gpu" && !rt) throw new Error("the GPU solver needs a GpuRuntime");
  // Every loop over batch entries, rows or training indices below gives the event loop turns:
  // the service fits on its only thread, and a study may hold a million training ids.
  const slice = new TimeSlice(options.signal);
  const makeBackend = async (design: Design) => {
    const norms = await runCooperatively(meanRowNormSqSteps(design, kind), slice);
    return method === "gpu"
      ? gpuBackend(rt!, design, kind, norms, slice)
      : cpuBackend(design, kind, method, options, norms, slice);
  };

  const requested = options.lambdaFactor ?? "auto";
  const grid = options.lambdaGrid ?? DEFAULT_LAMBDA_GRID;
  const searching = requested === "auto" && runs.length >= 2;
  const pace = new FitPace(searching ? grid.length : 0, options.onProgress);
  /** Options for one solve, reporting its progress as part of the whole fit. */
  const solveOptions = (phase: FitProgress["phase"], lambdaFactor: number): GpuSolveOptions => ({
    ...options,
    onIteration: (iterations, active) =>
      pace.report(phase, lambdaFactor, iterations, 1 - active / Math.max(1, m)),
  });
  if (requested !== "auto" && !(requested >= 0 && Number.isFinite(requested))) {
    throw new SimfluenceInputError(
      `lambdaFactor ${requested} must be a finite number >= 0 or "auto"`,
    );
  }
  const fullDesign = await buildDesignCooperative(runs, n, m, slice);
  let factor = requested === "auto" ? FALLBACK_LAMBDA_FACTOR : requested;
  let selection: FitResult["lambdaSelection"] = "fixed";
  const trials: LambdaTrial[] = [];
  let start: { A: Float32Array; B: Float32Array } | null = null;

  if (searching) {
    selection = "auto";
    const held = new Set(options.validationRuns ?? defaultValidation(runs.length));
    for (const r of held) {
      if (!Number.isInteger(r) || r < 0 || r >= runs.length) {
        throw new SimfluenceInputError(`validation run ${r} is outside [0, ${runs.length})`);
      }
    }
    if (held.size >= runs.length) {
      throw new SimfluenceInputError("validationRuns must leave at least one run for fitting");
    }
    const fitting = runs.filter((_, r) => !held.has(r));
    const validation = runs.filter((_, r) => held.has(r));
    const backend = await makeBackend(await buildDesignCooperative(fitting, n, m, slice));
    try {
      let best = Infinity;
      let sinceBest = 0;
      const patience = options.lambdaPatience ?? 1;
      const trialTol = options.trialTol ?? Math.max(options.tol ?? 1e-5, 1e-4);
      for (const f of grid) {
        if (sinceBest >= patience) break;
        options.signal?.throwIfAborted();
        const t0 = performance.now();
        pace.begin();
        const report = await backend.solve(f, {
          ...solveOptions("lambda-search", f),
          tol: trialTol,
        });
        const mse = await backend.validate(validation);
        trials.push({
          factor: f,
          validationMse: mse,
          maxIterations: Math.max(0, ...report.iterations),
          seconds: (performance.now() - t0) / 1000,
        });
        if (mse < best) {
          best = mse;
          factor = f;
          sinceBest = 0;
          start = await backend.theta();
        } else sinceBest++;
        pace.end("lambda-search", f, sinceBest < patience);
      }
    } finally {
      backend.dispose();
    }
  } else if (requested === "auto") {
    selection = "fallback-too-few-runs";
  }

  const backend = await makeBackend(fullDesign);
  try {
    if (start) backend.setStart(start.A, start.B);
    options.signal?.throwIfAborted();
    pace.begin("final-solve");
    const report = await backend.solve(factor, solveOptions("final-solve", factor));
    pace.end("final-solve", factor);
    const { A, B } = await backend.theta();
    for (const i of fullDesign.unseen) {
      A.fill(0, i * m, (i + 1) * m);
      B.fill(0, i * m, (i + 1) * m);
    }
    return {
      params: {
        kind,
        n,
        m,
        A,
        B,
        unseen: fullDesign.unseen,
        meanLoss: fullDesign.meanLoss,
        lambdaFactor: factor,
        scoreScale: null,
      },
      report,
      lambdaSelection: selection,
      lambdaTrials: trials,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    backend.dispose();
  }
}
