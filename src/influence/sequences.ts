// Training sequences and queries as the influence stages consume them: tokenized once, then
// grouped into right-padded batches in their given order (score rows stay aligned with ids).
import type { Batch } from "../gpt2/batch.ts";
import { buildBatch, type EncodedExample } from "../training/encode.ts";

/** A tokenized example: `lossMask[t]` is 1 when token t is a label (its prediction counts). */
export type Sequence = EncodedExample;

export interface SequenceBatch {
  /** Index of the batch's first sequence in the whole list. */
  start: number;
  sequences: readonly Sequence[];
  batch: Batch;
  /** [B·T]: 1 for a real token, 0 for padding (the covariances' positions). */
  tokenMask: Float32Array<ArrayBuffer>;
  /** Real (non-padding) tokens. */
  positions: number;
}

/** Consecutive batches of at most `batchSize` sequences, each padded to its longest. */
export function* sequenceBatches(
  sequences: readonly Sequence[],
  batchSize: number,
): Generator<SequenceBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batch size ${batchSize} must be a positive integer`);
  }
  for (let start = 0; start < sequences.length; start += batchSize) {
    const chunk = sequences.slice(start, start + batchSize);
    const batch = buildBatch(chunk);
    const tokenMask = Float32Array.from(batch.attentionMask!);
    const positions = chunk.reduce((n, s) => n + s.tokens.length, 0);
    yield { start, sequences: chunk, batch, tokenMask, positions };
  }
}

/** The longest sequence: sizes the scratch buffers of a whole pass. */
export function longest(sequences: readonly Sequence[]): number {
  return sequences.reduce((m, s) => Math.max(m, s.tokens.length), 0);
}
