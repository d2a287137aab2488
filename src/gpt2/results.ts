// What the model's steps return: losses (per position, per example, batch), a training step's
// extras, a backward pass's labels and objective, and results recorded on the GPU for later
// readback.
import { exampleLosses, type PreparedBatch } from "./batch.ts";

export interface LossResult {
  /** Mean token cross-entropy of each example's counted tokens (0 if it has none). */
  perExample: number[];
  /** Mean of perExample over the examples with counted tokens. */
  loss: number;
  /** Cross-entropy at every position [B·T] (position t predicts token t + 1). */
  tokenLoss: Float32Array;
}

export interface StepResult extends LossResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

/** Label value of a position that predicts nothing (Hugging Face's ignore index). */
export const UNLABELLED = -100;

/** Gpt2Model.backward's result; the losses are those against the labels actually used. */
export interface BackwardResult extends LossResult {
  /** The objective's value, Σ_positions weights·tokenLoss. */
  objective: number;
  /**
   * [B·T]: the label each predicting position was scored against (the data's next token, or
   * the sampled one), UNLABELLED where the batch counts no prediction.
   */
  labels: Int32Array;
}

/** A result recorded on the GPU, available once the tensor it was copied into is read back. */
export interface Deferred<R> {
  /** Elements the recorded call writes into its destination. */
  size: number;
  /** The result, from the destination's whole contents as read back. */
  resolve(values: Float32Array): R;
}

export function lossResult(prepared: PreparedBatch, tokenLoss: Float32Array): LossResult {
  return { ...exampleLosses(prepared, tokenLoss), tokenLoss };
}
