// Curriculum optimisations as the Optimise tab reads them (GET /v1/curricula/optimizations[/:id])
// and the arithmetic it does on them: the objective's trajectory of an observed run, the mean of
// several trajectories, and which point of the search a job's progress event is. No DOM here, so
// tests/web/optimization.test.ts runs it under Deno.

export interface Prediction {
  objective: number | null;
  /** The objective after each step 0…T (simulator method); null where only the end is predicted. */
  trajectory: number[] | null;
}

export interface Contribution {
  id: string;
  contribution: number | null;
}

export interface VerifiedRun {
  kind: "optimized" | "random";
  index: number | null;
  run: string;
  name: string;
  observed: number;
  predicted: number | null;
  cancelled: boolean;
}

export interface Verification {
  status: "running" | "complete" | "cancelled" | "failed";
  runs: VerifiedRun[];
  observed: {
    optimized: number;
    randomMean: number;
    improvement: number;
    /** Percentile bootstrap over the random runs. */
    interval: { lower: number; upper: number; confidence: number };
    /** Over the random runs and the objective's test examples together (newer services). */
    overTests?: { lower: number; upper: number; confidence: number };
  } | null;
  predicted: { improvement: number | null } | null;
}

export interface OptimizationSummary {
  id: string;
  study: string;
  method: "simulator" | "scores" | "metagradient";
  status: "running" | "ready" | "failed" | "cancelled";
  error: string | null;
  job: string | null;
  budget: { keep: number; of: number };
  objective: { tests: string[]; at: "final" | "mean" };
  predicted: { optimized: number | null; own: number | null; randomMean: number | null } | null;
  verified: { improvement: number; lower: number; upper: number } | null;
  createdAt: string;
  updatedAt: string;
}

export interface SimulatorSearch {
  restarts?: { start: string; startObjective: number; best: number; trace: number[] }[];
  rounds?: number;
  curriculaEvaluated?: number;
  curriculaPerSecond?: number;
  iterations?: { objective: number }[];
}

export interface Optimization extends OptimizationSummary {
  request: Record<string, unknown>;
  result: {
    curriculum: { kept: string[]; order: number[]; batches: string[][] };
    predicted: {
      optimized: Prediction;
      own: Prediction;
      random: (Prediction & { kept: number })[];
      randomMean: number | null;
      improvement: number | null;
    };
    changes: { added: Contribution[]; dropped: Contribution[]; kept: Contribution[] };
    search: SimulatorSearch & Record<string, unknown>;
    provenance: Record<string, unknown> & {
      baseRun?: string;
      objective?: { tests: string[]; weights: number[]; at: string };
    };
    seconds: number;
  } | null;
  verification: Verification | null;
}

/** Predicted gain over the random curricula (random mean − optimised; > 0: better). */
export function predictedGain(o: OptimizationSummary): number | null {
  const p = o.predicted;
  return p && p.randomMean !== null && p.optimized !== null ? p.randomMean - p.optimized : null;
}

/**
 * The objective after each step of an observed run: Σ_j w_j·L_j(t) over the objective's tests
 * (weights summing to 1, as the service resolves them). Null when a test has no trajectory.
 */
export function objectiveTrajectory(
  trajectories: Record<string, number[]>,
  tests: readonly string[],
  weights: readonly number[],
): number[] | null {
  const columns = tests.map((t) => trajectories[t]);
  if (columns.length === 0 || columns.some((c) => c === undefined)) return null;
  const steps = Math.min(...columns.map((c) => c.length));
  return Array.from(
    { length: steps },
    (_, t) => columns.reduce((sum, c, j) => sum + weights[j] * c[t], 0),
  );
}

/** The step-wise mean of trajectories (as long as the shortest); null without any. */
export function meanTrajectory(trajectories: readonly number[][]): number[] | null {
  if (trajectories.length === 0) return null;
  const steps = Math.min(...trajectories.map((t) => t.length));
  return Array.from(
    { length: steps },
    (_, t) => trajectories.reduce((sum, tr) => sum + tr[t], 0) / trajectories.length,
  );
}

export interface ProgressLike {
  phase: string;
  step: number | null;
  message: string | null;
  details?: Record<string, number | null> | null;
}

/** One point of the search as a progress event reports it. */
export interface SearchPoint {
  /** Simulator: rounds done over every restart; metagradient: the iteration (0-based). */
  x: number;
  /** The best objective so far (simulator), or the iteration's objective (metagradient). */
  best: number;
  /** Simulator: the annealing's current objective. */
  current: number | null;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * The search point a job's progress event carries, if any. The simulator's events (phase
 * "search") carry the rounds done as `step` and {objective, best} as details. The metagradient's
 * (phase "iteration k/n") carry {iteration, objective}: the event that ends iteration k says
 * "objective" in its message and has iteration k's objective; those during iteration k still
 * carry iteration k − 1's.
 */
export function searchPoint(p: ProgressLike): SearchPoint | null {
  const d = p.details ?? {};
  if (p.phase === "search" && finite(d.best) && p.step !== null) {
    // `step` counts rounds done (1-based); x is the round's index, as in the stored traces.
    return { x: p.step - 1, best: d.best, current: finite(d.objective) ? d.objective : null };
  }
  if (p.phase.startsWith("iteration") && finite(d.objective) && finite(d.iteration)) {
    const ended = /: objective /.test(p.message ?? "");
    const x = ended ? d.iteration : d.iteration - 1;
    return x >= 0 ? { x, best: d.objective, current: null } : null;
  }
  return null;
}

/**
 * The stored search as curves on one x axis: each restart's best objective per round (the stored
 * trace is evenly thinned to ≤ 100 points of `rounds`), or the metagradient iterations' objectives.
 */
export function storedSearch(
  search: SimulatorSearch,
): { label: string; values: (number | null)[] }[] {
  if (search.iterations) {
    return [{
      label: "objective per iteration",
      values: search.iterations.map((i) => i.objective),
    }];
  }
  const rounds = search.rounds ?? 0;
  return (search.restarts ?? []).map((r, k) => {
    const values: (number | null)[] = new Array(rounds * (k + 1)).fill(null);
    const n = r.trace.length;
    r.trace.forEach((v, i) => {
      const round = n === rounds || n < 2 ? i : Math.round((i * (rounds - 1)) / (n - 1));
      values[k * rounds + round] = v;
    });
    return { label: `restart ${k + 1} (${r.start} start)`, values };
  });
}
