// What replaying a recorded run needs beyond its batches (which the run stores): the optimiser as
// it ran (schedule resolved), the batch shapes the recorder used (shapes change the kernels'
// reduction orders, so a bit-exact replay needs the same ones), and where the run came from.
// Stored with every run the training job records (RunProvenance.training); runs recorded before
// data weights existed have none, and cannot be replayed.
import type { OptimizerConfig } from "../gpt2/optimizer.ts";

export const RECIPE_VERSION = 1;

export interface TrainingRecipe {
  version: typeof RECIPE_VERSION;
  optimizer: OptimizerConfig;
  /** Rows of every training batch (short batches are filled with label-free rows). */
  rows: number;
  /** Rows of every evaluation batch of the test examples. */
  evalRows: number;
  /** Padded length of every batch, training and evaluation. */
  contextLength: number;
  /** The request's seed, and the run's index in it. */
  seed: number;
  run: number;
  /** For a mask run: the base run it replays, and the fraction of its ids weighted 0. */
  mask?: { baseRun: string; dropFraction: number };
}

/** A stored recipe, or null when the JSON is absent or of another version. */
export function parseRecipe(json: string | null): TrainingRecipe | null {
  if (!json) return null;
  const recipe = JSON.parse(json) as TrainingRecipe;
  return recipe.version === RECIPE_VERSION ? recipe : null;
}
