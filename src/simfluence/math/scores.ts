// Influence scores as a simulator (MATH.md §3): B_i(z) = -s · I(z, i), A = 0, with one scale s
// fitted by least squares on the fitting runs' transitions, so scores from any tool can be
// evaluated with the same metrics as the fitted simulators.
import { SimfluenceInputError } from "./curriculum.ts";
import { designSteps } from "./design.ts";
import { runCooperatively, runToEnd, type TimeSlice } from "./time_slice.ts";
import type { Run, SimulatorParams, StudyUniverse } from "./types.ts";

export type ScoresLayout = "train-major" | "test-major";

export interface ScoresFit {
  params: SimulatorParams;
  /** Mean squared one-step error of the fitted transitions, Σ (y + s·g)² / rows·m. */
  transitionMse: number;
}

/**
 * `scores` holds I(z, i) for every training index i and test index z: n x m when "train-major"
 * (scores[i * m + z]), m x n when "test-major" (scores[z * n + i]).
 *
 * With g_row(z) = Σ_{i∈c_t} count·I(z, i) the model predicts y = -s·g, and the least-squares
 * scale over every (row, z) pair is s = -Σ y·g / Σ g² (0 when every g is 0).
 */
export function fitScoresSimulator(
  universe: StudyUniverse,
  runs: readonly Run[],
  scores: ArrayLike<number>,
  layout: ScoresLayout = "train-major",
): ScoresFit {
  return runToEnd(fitScoresSteps(universe, runs, scores, layout));
}

/** `fitScoresSimulator` giving the event loop turns (its loops run over n x m scores). */
export function fitScoresSimulatorCooperative(
  universe: StudyUniverse,
  runs: readonly Run[],
  scores: ArrayLike<number>,
  layout: ScoresLayout,
  slice: TimeSlice,
): Promise<ScoresFit> {
  return runCooperatively(fitScoresSteps(universe, runs, scores, layout), slice);
}

/** `fitScoresSimulator` as steps: yields after each training index's scores and each row. */
function* fitScoresSteps(
  universe: StudyUniverse,
  runs: readonly Run[],
  scores: ArrayLike<number>,
  layout: ScoresLayout,
): Generator<void, ScoresFit, void> {
  const n = universe.trainIds.length;
  const m = universe.testIds.length;
  if (scores.length !== n * m) {
    throw new SimfluenceInputError(
      `scores hold ${scores.length} values, expected n x m = ${n * m}`,
    );
  }
  const I = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let z = 0; z < m; z++) {
      const v = layout === "train-major" ? scores[i * m + z] : scores[z * n + i];
      if (!Number.isFinite(v)) {
        throw new SimfluenceInputError(`score for train ${i}, test ${z} is not finite`);
      }
      I[i * m + z] = v;
    }
    yield;
  }
  const design = yield* designSteps(runs, n, m);
  const g = new Float64Array(m);
  let yg = 0;
  let gg = 0;
  let yy = 0;
  for (let r = 0; r < design.rows; r++) {
    g.fill(0);
    for (let k = design.rowPtr[r]; k < design.rowPtr[r + 1]; k++) {
      const i = design.rowIdx[k];
      const c = design.rowCnt[k];
      for (let z = 0; z < m; z++) g[z] += c * I[i * m + z];
    }
    for (let z = 0; z < m; z++) {
      const y = design.dy[r * m + z];
      yg += y * g[z];
      gg += g[z] * g[z];
      yy += y * y;
    }
    yield;
  }
  const s = gg > 0 ? -yg / gg : 0;
  const B = new Float32Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let k = i * m; k < (i + 1) * m; k++) B[k] = -s * I[k];
    yield;
  }
  for (const i of design.unseen) B.fill(0, i * m, (i + 1) * m);
  // Σ (y + s g)² = yy + 2 s yg + s² gg.
  const transitionMse = Math.max(0, yy + 2 * s * yg + s * s * gg) / (design.rows * m);
  return {
    params: {
      kind: "scores",
      n,
      m,
      A: new Float32Array(n * m),
      B,
      unseen: design.unseen,
      meanLoss: design.meanLoss,
      lambdaFactor: null,
      scoreScale: s,
    },
    transitionMse,
  };
}
