// Method "scores", the baseline: with a pairwise score set τ (positive: the example lowers the
// test's loss), an example's harm to the objective is −Σ_z c_z·τ(z, i) over the objective's tests
// (weights c summing to 1). The most harmful free examples are dropped until the budget is met.
// The score set predicts a curriculum's final objective as the base run's plus the scores of
// what it drops, J_base + Σ_{i dropped} Σ_z c_z·τ(z, i) (the mask prediction of MATH.md §7, each
// dropped id once).
import { InvalidInputError } from "../errors.ts";
import { INFLUENCE } from "../influence/store.ts";
import type { ScoresSpec } from "../influence/scores/service.ts";
import { RUNS } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";
import {
  loadPairwiseScoreSet,
  requireCoverage,
  scoreOf,
  type StudyScoreSet,
} from "../simfluence/score_set.ts";
import { baseOrder, objectiveOf, objectiveTrajectory } from "./curriculum.ts";
import type { MethodOutcome } from "./method.ts";
import type { Setting } from "./setting.ts";

const FIELD = "method.scores";

/** The score set, checked against the setting's study (400s name method.scores). */
export async function loadStudyScores(
  store: Store,
  setting: Setting,
  id: string,
): Promise<StudyScoreSet> {
  const record = store.get(INFLUENCE).get<ScoresSpec>("scores", id);
  const run = record?.spec.magic?.run ?? record?.spec.tracin?.run;
  const study = run ? store.get(RUNS).get(run)?.study : undefined;
  if (study !== undefined && study !== setting.study) {
    throw new InvalidInputError(
      `${FIELD}: score set ${id} was computed from run ${run} of study "${study}", not ` +
        `"${setting.study}"`,
      { field: FIELD, scoreSet: id, study },
      "other_study",
    );
  }
  const set = await loadPairwiseScoreSet(store, id, FIELD);
  requireCoverage(set, setting.objective.tests, setting.pool, FIELD);
  return set;
}

export function scoresMethod(setting: Setting, set: StudyScoreSet): MethodOutcome {
  const { objective } = setting;
  const m = setting.testIds.length;
  const baseTrajectory = objectiveTrajectory(objective, setting.base.run.losses, m);
  const baseObjective = objectiveOf(objective, baseTrajectory);
  // Presence effect of each candidate on the objective: −Σ_z c_z τ(z, i).
  const contributions = new Map<string, number>();
  for (const id of setting.pool) {
    let sum = 0;
    objective.tests.forEach((test, j) => (sum += objective.weights[j] * scoreOf(set, test, id)));
    contributions.set(id, -sum);
  }
  const free = setting.pool.filter((id) => !setting.keep.has(id) && !setting.exclude.has(id));
  const harmfulFirst = free.slice().sort((a, b) =>
    contributions.get(b)! - contributions.get(a)! || a.localeCompare(b)
  );
  const dropCount = setting.pool.length - setting.keepCount - setting.exclude.size;
  const drop = new Set([...setting.exclude, ...harmfulFirst.slice(0, dropCount)]);
  const kept = setting.pool.filter((id) => !drop.has(id));
  return {
    curriculum: { kept, order: baseOrder(setting) },
    predict: (c) => {
      const keptSet = new Set(c.kept);
      let objectiveValue = baseObjective;
      for (const id of setting.pool) {
        if (!keptSet.has(id)) objectiveValue -= contributions.get(id)!;
      }
      return { objective: objectiveValue, trajectory: null };
    },
    contributions,
    search: {
      algorithm: "drop the free examples with the most harmful summed scores over the " +
        "objective's tests, up to the budget",
      dropped: drop.size,
    },
    provenance: {
      scoreSet: set.id,
      prediction: "the base run's objective plus the summed scores of the dropped examples " +
        "(each once)",
    },
  };
}
