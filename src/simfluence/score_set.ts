// A stored influence score set read against a study: its queries are the study's test examples and
// its training ids those of the study's runs, matched by id. Used by kind "scores" simulators
// (POST /v1/simulators with `scoreSet`) and by the LDS evaluation.
import { presentIds } from "../runs/run_input.ts";
import { InvalidInputError } from "../errors.ts";
import { type ScoreSetMatrix, scoreSetMatrix } from "../influence/scores/service.ts";
import type { StoredRun } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";

/** How many missing pairs an error lists (the total is always given). */
const LISTED_PAIRS = 20;

/** A pairwise score set with id → row/column lookups. */
export interface StudyScoreSet {
  id: string;
  queries: readonly string[];
  train: readonly string[];
  /** [queries × train] row-major; NaN where a filter skipped the pair. */
  scores: Float32Array;
  queryIndex: ReadonlyMap<string, number>;
  trainIndex: ReadonlyMap<string, number>;
}

/** A ready pairwise score set; 404 unknown, 409 not ready, 400 (naming `field`) in self mode. */
export async function loadPairwiseScoreSet(
  store: Store,
  id: string,
  field: string,
): Promise<StudyScoreSet> {
  const matrix: ScoreSetMatrix = await scoreSetMatrix(store, id);
  if (matrix.mode !== "pairwise") {
    throw new InvalidInputError(
      `${field}: score set ${id} holds self-influence scores; a pairwise score set (queries = ` +
        "the study's test examples) is needed",
      { field, scoreSet: id, mode: matrix.mode },
      "self_influence_scores",
    );
  }
  return {
    id,
    queries: matrix.queries,
    train: matrix.train,
    scores: matrix.scores,
    queryIndex: new Map(matrix.queries.map((q, k) => [q, k])),
    trainIndex: new Map(matrix.train.map((t, k) => [t, k])),
  };
}

/** τ(test, train), or NaN when the score set lacks the pair (absent id or unscored). */
export function scoreOf(set: StudyScoreSet, test: string, train: string): number {
  const q = set.queryIndex.get(test);
  const i = set.trainIndex.get(train);
  if (q === undefined || i === undefined) return NaN;
  return set.scores[q * set.train.length + i];
}

/** The distinct training ids of some runs' batches, in first-seen order. */
export function runTrainIds(runs: readonly StoredRun[]): string[] {
  const ids = new Set<string>();
  for (const stored of runs) {
    for (const step of stored.run.steps) for (const id of presentIds(step)) ids.add(id);
  }
  return [...ids];
}

/** The pairs test × train that the score set lacks: the first few as "test × train", and how many. */
export function missingPairs(
  set: StudyScoreSet,
  testIds: readonly string[],
  trainIds: readonly string[],
): { ids: string[]; total: number } {
  const listed: string[] = [];
  let total = 0;
  for (const test of testIds) {
    for (const train of trainIds) {
      if (!Number.isFinite(scoreOf(set, test, train))) {
        total++;
        if (listed.length < LISTED_PAIRS) listed.push(`${test} × ${train}`);
      }
    }
  }
  return { ids: listed, total };
}

/** 400 naming `field` when the score set lacks any pair test × train (absent, NaN or infinite). */
export function requireCoverage(
  set: StudyScoreSet,
  testIds: readonly string[],
  trainIds: readonly string[],
  field: string,
  hint = "",
): void {
  const missing = missingPairs(set, testIds, trainIds);
  if (missing.total === 0) return;
  throw new InvalidInputError(
    `${field}: score set ${set.id} lacks ${missing.total} (test example × training example) ` +
      `pair(s) the study needs, e.g. ${missing.ids.slice(0, 3).join(", ")}${hint}`,
    { field, scoreSet: set.id, missing },
    "scores_do_not_cover_study",
  );
}

/**
 * The score set as an n x m train-major matrix against the study's ids (the layout of
 * fitScoresSimulator); pairs it lacks are 0.
 */
export function trainMajorScores(
  set: StudyScoreSet,
  trainIds: readonly string[],
  testIds: readonly string[],
): Float32Array {
  const m = testIds.length;
  const out = new Float32Array(trainIds.length * m);
  trainIds.forEach((train, i) => {
    testIds.forEach((test, z) => {
      const v = scoreOf(set, test, train);
      if (Number.isFinite(v)) out[i * m + z] = v;
    });
  });
  return out;
}

/**
 * Each run's final losses as a score set predicts them, L_0(z) − s·Σ_{i ∈ run} τ(z, i), the sum
 * over the run's batch entries (a repeated entry counts each time). R x m row-major, float64. The
 * caller has checked that every pair is scored (requireCoverage).
 */
export function scoreSetFinalLosses(
  set: StudyScoreSet,
  testIds: readonly string[],
  runs: readonly StoredRun[],
  scale = 1,
): Float64Array {
  const m = testIds.length;
  const out = new Float64Array(runs.length * m);
  for (const [r, stored] of runs.entries()) {
    const counts = new Map<string, number>();
    for (const step of stored.run.steps) {
      for (const id of presentIds(step)) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    testIds.forEach((test, z) => {
      let sum = 0;
      for (const [train, count] of counts) sum += count * scoreOf(set, test, train);
      out[r * m + z] = stored.run.losses[z] - scale * sum;
    });
  }
  return out;
}

/** Each run's observed final losses L_T, R x m row-major. */
export function observedFinalLosses(runs: readonly StoredRun[], m: number): Float64Array {
  const out = new Float64Array(runs.length * m);
  for (const [r, stored] of runs.entries()) {
    const T = stored.run.steps.length;
    for (let z = 0; z < m; z++) out[r * m + z] = stored.run.losses[T * m + z];
  }
  return out;
}
