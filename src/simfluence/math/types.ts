// In-memory forms of the Simfluence core (MATH.md §1–3).
//
// Layout conventions, shared by CPU and GPU code:
// - Losses of a run: Float32Array of (T+1) x m, row-major, row t holds L_t(z) for every test
//   example z; row 0 is L_0.
// - Simulator parameters A and B: Float32Array of n x m, train-major (A[i * m + z]), so that the
//   values of one training example for consecutive test examples are adjacent. This is the GPU's
//   layout too: threads run along z and their loads are coalesced.

/** The four simulator families of MATH.md §2–3. */
export type SimulatorKind = "linear" | "additive" | "multiplicative" | "scores";

export const SIMULATOR_KINDS: readonly SimulatorKind[] = [
  "linear",
  "additive",
  "multiplicative",
  "scores",
];

/** The universe of one study: training and test ids; indices into these arrays name them. */
export interface StudyUniverse {
  trainIds: readonly string[];
  testIds: readonly string[];
}

/**
 * One step's batch. Either a list of training indices (an index may repeat: it counts twice), or
 * parallel arrays of indices and positive integer counts. An index of -1 marks an id outside the
 * study; it contributes nothing to a simulation and is rejected when fitting.
 */
export type Batch =
  | readonly number[]
  | { readonly indices: readonly number[]; readonly counts: readonly number[] };

/**
 * A curriculum in compressed sparse rows: step t (0-based, the batch c_{t+1}) holds entries
 * stepPtr[t] .. stepPtr[t+1]-1 of `indices`/`counts`, with each index at most once per step.
 */
export interface Curriculum {
  steps: number;
  stepPtr: Uint32Array;
  /** Training indices; -1 for ids outside the study. */
  indices: Int32Array;
  counts: Uint32Array;
}

/** One fine-tuning run: T batches and the losses of all m test examples before and after each. */
export interface Run {
  id?: string;
  batches: readonly Batch[];
  /** (T+1) x m, row-major, row 0 = L_0. */
  losses: Float32Array;
}

/** A fitted simulator. Unused parameter blocks (A of "additive", B of "multiplicative") are zero. */
export interface SimulatorParams {
  kind: SimulatorKind;
  n: number;
  m: number;
  /** n x m train-major; multiplicative coefficients, α_t = 1 + Σ_{i∈c_t} A_i. */
  A: Float32Array;
  /** n x m train-major; additive coefficients, β_t = Σ_{i∈c_t} B_i. */
  B: Float32Array;
  /** Training indices absent from every fitting run; their A and B are 0. */
  unseen: number[];
  /** Mean of L_{t-1}(z) over the fitting transitions: the "typical loss" of each test example. */
  meanLoss: Float32Array;
  /** Ridge factor relative to each test example's mean squared design-row norm (not for "scores"). */
  lambdaFactor: number | null;
  /** Fitted scale s of the scores simulator, B_i(z) = -s I(z, i) (only for "scores"). */
  scoreScale: number | null;
}

/** How a ridge solve went, per test example. */
export interface SolveReport {
  solver: "gpu-cg" | "cpu-cg" | "cpu-cholesky";
  /** CG iterations per test example (0 for direct solves). */
  iterations: Int32Array;
  /** Final relative residual ||b - (XᵀX+λI)θ|| / ||b|| per test example, from a fresh mat-vec. */
  relativeResidual: Float32Array;
  /** Number of test examples whose solver met its tolerance (CG: its recursive residual). */
  converged: number;
}
