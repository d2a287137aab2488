// Sampled labels (the true Fisher's): the uniform draw behind each labelled position's label,
// computed on the CPU from the seeded generator, so that a label depends only on the seed, the
// example's index in its batch, its position and the model's predictive distribution there (not
// on the batch's other rows). The draw itself is the GPU's (kernels/sample.ts): inverse-CDF
// sampling from softmax(logits).
import { seededUniform } from "../random.ts";
import type { PreparedBatch } from "./batch.ts";

/** Marks a row that keeps its label in the draws handed to the sampling kernel. */
export const NO_DRAW = -1;

/** The largest draw: below 1 once stored as f32 (the kernel needs u in [0, 1)). */
const MAX_DRAW = 1 - 2 ** -24;

/** A 32-bit hash of a 32-bit value: mulberry32's first output from that state. */
function hash32(value: number): number {
  return Math.floor(seededUniform(value)() * 2 ** 32);
}

/** The uniform draw in [0, 1) of the sampled label predicted at (example, position), for a seed. */
export function labelDraw(seed: number, example: number, position: number): number {
  const state = hash32(hash32(seed >>> 0) ^ example) ^ position;
  return Math.min(seededUniform(state)(), MAX_DRAW);
}

/**
 * [B·T]: labelDraw at every position whose prediction the batch counts (exampleWeights > 0),
 * NO_DRAW at the others (they stay unlabelled).
 */
export function labelDraws(batch: PreparedBatch, seed: number): Float32Array<ArrayBuffer> {
  const { B, T, exampleWeights } = batch;
  const draws = new Float32Array(B * T).fill(NO_DRAW);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      if (exampleWeights[b * T + t] > 0) draws[b * T + t] = labelDraw(seed, b, t);
    }
  }
  return draws;
}
