// The LDS in the single-model setting (MATH.md §7 "LDS in this setting"): every evaluated run is a
// mask run of one base run, i.e. the base run's batches, in order, with some of its training ids
// weighted 0. A score set then predicts run r's final loss of test example z as the base run's
// final loss plus the scores of the ids r dropped, each id once:
//   L̂_T^r(z) = L_T^base(z) + Σ_{i dropped in r} score(z, i)
// (score = −∂φ_z/∂w_i for metagradients, so dropping a helpful example raises the loss). Each id
// counts once, not once per occurrence: a metagradient already sums over the steps an example was
// in, and a mask drops every occurrence of an id. The scores are on the scale of the query's loss
// summed over its tokens while the recorded losses are per-token means: the prediction is right
// up to a positive factor per test example, which Spearman's ρ (the LDS) does not see.
import { InvalidInputError } from "../errors.ts";
import type { RunStep } from "../runs/run_input.ts";
import type { StoredRun } from "../runs/run_store.ts";
import { scoreOf, type StudyScoreSet } from "../simfluence/score_set.ts";

const weightAt = (step: RunStep, k: number) => step.weights?.[k] ?? 1;

function notAMask(field: string, run: StoredRun, base: StoredRun, why: string) {
  return new InvalidInputError(
    `${field}: run ${run.id} is not a mask run of base run ${base.id}: ${why}`,
    { field, run: run.id, baseRun: base.id },
    "not_a_mask_run",
  );
}

/**
 * The distinct ids each run dropped relative to the base run (weight 0 where the base's is not),
 * in first-seen order. A 400 naming `runs.k` when run k is not a mask run of the base: other
 * batches or learning rates, a weight that is neither the base's nor 0, or an id dropped at some of
 * its occurrences and kept at others.
 */
export function maskDrops(base: StoredRun, runs: readonly StoredRun[]): string[][] {
  const baseSteps = base.run.steps;
  return runs.map((stored, k) => {
    const field = `runs.${k}`;
    const steps = stored.run.steps;
    if (steps.length !== baseSteps.length) {
      throw notAMask(
        field,
        stored,
        base,
        `it has ${steps.length} steps, the base ${baseSteps.length}`,
      );
    }
    const dropped = new Set<string>();
    const kept = new Set<string>();
    steps.forEach((step, t) => {
      const baseStep = baseSteps[t];
      const sameBatch = step.batch.length === baseStep.batch.length &&
        step.batch.every((id, j) => id === baseStep.batch[j]);
      if (!sameBatch) throw notAMask(field, stored, base, `step ${t} has another batch`);
      if ((step.lr ?? null) !== (baseStep.lr ?? null)) {
        throw notAMask(field, stored, base, `step ${t} has another learning rate`);
      }
      step.batch.forEach((id, j) => {
        const w = weightAt(step, j);
        const baseW = weightAt(baseStep, j);
        if (w === baseW) {
          if (baseW !== 0) kept.add(id);
          return;
        }
        if (w !== 0) {
          throw notAMask(
            field,
            stored,
            base,
            `step ${t} weighs "${id}" ${w} where the base weighs it ${baseW} (a mask run keeps ` +
              "the base's weight or drops the example with weight 0)",
          );
        }
        dropped.add(id);
      });
    });
    const partly = [...dropped].find((id) => kept.has(id));
    if (partly !== undefined) {
      throw notAMask(
        field,
        stored,
        base,
        `"${partly}" is dropped at some of its steps and kept at others`,
      );
    }
    return [...dropped];
  });
}

/**
 * Each run's final losses as a score set predicts them from the base run, L_T^base(z) +
 * Σ_{i dropped} score(z, i). R x m row-major, float64. The caller has checked that every
 * (test, dropped id) pair is scored (requireCoverage).
 */
export function maskScoreSetFinalLosses(
  set: StudyScoreSet,
  testIds: readonly string[],
  base: StoredRun,
  drops: readonly (readonly string[])[],
): Float64Array {
  const m = testIds.length;
  const T = base.run.steps.length;
  const out = new Float64Array(drops.length * m);
  drops.forEach((dropped, r) => {
    testIds.forEach((test, z) => {
      let sum = 0;
      for (const id of dropped) sum += scoreOf(set, test, id);
      out[r * m + z] = base.run.losses[T * m + z] + sum;
    });
  });
  return out;
}
