// Curricula as the optimisation sees them: the base run's batches, in an order, keeping a subset of
// its training ids (a dropped id keeps its batch slot with data weight 0 when trained, and is
// absent to a simulator); random subsets of the same budget; and the objective of a trajectory.
import { seededUniform, shuffled } from "../random.ts";
import { presentIds } from "../runs/run_input.ts";
import type { Objective, Setting } from "./setting.ts";

export interface ChosenCurriculum {
  kept: string[];
  /** Base batch index at each step. */
  order: number[];
}

/** The kept ids of each step's batch, in the curriculum's order. */
export function keptBatches(setting: Setting, curriculum: ChosenCurriculum): string[][] {
  const kept = new Set(curriculum.kept);
  return curriculum.order.map((b) =>
    presentIds(setting.base.run.steps[b]).filter((id) => kept.has(id))
  );
}

export const baseOrder = (setting: Setting): number[] => setting.base.run.steps.map((_, t) => t);

/** Random subset r of the budget: keep, plus a seeded draw of the free ids. */
export function randomSubset(setting: Setting, seed: number, r: number): string[] {
  const free = setting.pool.filter((id) => !setting.keep.has(id) && !setting.exclude.has(id));
  const draw = shuffled(free, seededUniform((seed + 0x51ed27 + r * 0x9e3779b1) >>> 0));
  const chosen = new Set([
    ...setting.keep,
    ...draw.slice(0, setting.keepCount - setting.keep.size),
  ]);
  return setting.pool.filter((id) => chosen.has(id));
}

/** The objective's value after each step of a (T+1) × m trajectory (m: the study's tests). */
export function objectiveTrajectory(
  objective: Objective,
  losses: ArrayLike<number>,
  m: number,
): number[] {
  const steps = losses.length / m;
  const out: number[] = [];
  for (let t = 0; t < steps; t++) {
    let sum = 0;
    objective.columns.forEach((z, j) => (sum += objective.weights[j] * losses[t * m + z]));
    out.push(sum);
  }
  return out;
}

/** The objective of a trajectory: its last value, or the mean over steps 1…T. */
export function objectiveOf(objective: Objective, trajectory: readonly number[]): number {
  if (objective.at === "final" || trajectory.length < 2) return trajectory.at(-1)!;
  let sum = 0;
  for (let t = 1; t < trajectory.length; t++) sum += trajectory[t];
  return sum / (trajectory.length - 1);
}

/** The objective of one run's observed losses on a resampled set of the objective's tests. */
export function objectiveOnTests(
  objective: Objective,
  losses: ArrayLike<number>,
  m: number,
  picks: readonly number[],
): number {
  const T = losses.length / m - 1;
  let num = 0, den = 0;
  for (const j of picks) {
    const z = objective.columns[j];
    const w = objective.weights[j];
    let value = losses[T * m + z];
    if (objective.at === "mean") {
      value = 0;
      for (let t = 1; t <= T; t++) value += losses[t * m + z];
      value /= T;
    }
    num += w * value;
    den += w;
  }
  return den > 0 ? num / den : NaN;
}
