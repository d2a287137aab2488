// A training / evaluation batch and its derived per-position arrays.
//
// Token ids are given as integers [B, T] (row-major) and travel to the GPU as f32 (exact for ids
// below 2^24, far above any vocabulary here), because every tensor in the runtime is f32.
// Masks follow Hugging Face conventions:
//   attentionMask[b, t] = 1 for a real token, 0 for padding (padding is never attended to);
//   lossMask[b, t]      = 1 when token t is a label whose prediction (made at position t - 1)
//                         counts, like HF `labels` with -100 elsewhere. Default: every real token.
// Position ids are 0..T-1 for every row (HF's default), so pad on the right for training.
import { dimsOf, type Gpt2Config } from "./config.ts";
import { DomainError } from "../errors.ts";

export interface Batch {
  B: number;
  T: number;
  tokens: ArrayLike<number>;
  attentionMask?: ArrayLike<number>;
  lossMask?: ArrayLike<number>;
  /**
   * Data weights w_b [B] of the examples (MATH.md §7): example b's term of the batch loss is
   * scaled by w_b, the divisor (examples with a counted token) is not. Default 1 each; 0 removes
   * an example while its slot stays. Per-token weights would be a [B·T] sibling of this.
   */
  dataWeights?: ArrayLike<number>;
}

export interface PreparedBatch {
  B: number;
  T: number;
  tokens: Float32Array<ArrayBuffer>;
  /** Next-token target at each position (0 where none; its weight is then 0). */
  targets: Float32Array<ArrayBuffer>;
  /** 1 where the key at (b, t) may be attended to. */
  keyMask: Float32Array<ArrayBuffer>;
  /** Counted predictions per example. */
  counts: number[];
  /** 1/counts[b] at counted positions, else 0: per-example mean token loss = Σ_t w·ce. */
  exampleWeights: Float32Array<ArrayBuffer>;
  /** Data weights [B] (1 unless the batch gives them). */
  dataWeights: Float32Array<ArrayBuffer>;
  /** Weights of the batch objective: dataWeights·exampleWeights / (examples with a counted token). */
  lossWeights: Float32Array<ArrayBuffer>;
  /** Examples that have at least one counted token (the batch loss averages over these). */
  activeExamples: number;
}

export class BatchError extends DomainError {
  override name = "BatchError";
  constructor(message: string) {
    super("invalid", "invalid_batch", message);
  }
}

function checkMask(name: string, mask: ArrayLike<number> | undefined, n: number): void {
  if (!mask) return;
  if (mask.length !== n) throw new BatchError(`${name} has ${mask.length} entries, expected ${n}`);
  for (let i = 0; i < n; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) {
      throw new BatchError(`${name}[${i}] = ${mask[i]} must be 0 or 1`);
    }
  }
}

export function prepareBatch(batch: Batch, config: Gpt2Config): PreparedBatch {
  const { B, T } = batch;
  const { V, P } = dimsOf(config);
  if (!Number.isInteger(B) || B < 1 || !Number.isInteger(T) || T < 1) {
    throw new BatchError(`batch shape [${B}, ${T}] must be positive integers`);
  }
  if (T > P) throw new BatchError(`sequence length ${T} exceeds n_positions ${P}`);
  const n = B * T;
  if (batch.tokens.length !== n) {
    throw new BatchError(`tokens has ${batch.tokens.length} entries, expected B·T = ${n}`);
  }
  const tokens = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const id = batch.tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new BatchError(`token id ${id} at index ${i} is outside [0, ${V})`);
    }
    tokens[i] = id;
  }
  checkMask("attentionMask", batch.attentionMask, n);
  checkMask("lossMask", batch.lossMask, n);
  const dataWeights = new Float32Array(B).fill(1);
  if (batch.dataWeights) {
    if (batch.dataWeights.length !== B) {
      throw new BatchError(
        `dataWeights has ${batch.dataWeights.length} entries, expected B = ${B}`,
      );
    }
    for (let b = 0; b < B; b++) {
      const w = batch.dataWeights[b];
      if (!Number.isFinite(w) || w < 0) {
        throw new BatchError(`dataWeights[${b}] = ${w} must be a finite non-negative number`);
      }
      dataWeights[b] = w;
    }
  }
  const keyMask = Float32Array.from({ length: n }, (_, i) => batch.attentionMask?.[i] ?? 1);
  // The prediction made at position p of token p + 1 counts when both are real tokens and the
  // label is in the loss mask (a padded position predicts nothing, even next to real tokens).
  const counted = (p: number) =>
    keyMask[p] === 1 && keyMask[p + 1] === 1 && (batch.lossMask?.[p + 1] ?? 1) === 1;
  const targets = new Float32Array(n);
  const exampleWeights = new Float32Array(n);
  const counts: number[] = [];
  for (let b = 0; b < B; b++) {
    let count = 0;
    for (let t = 0; t + 1 < T; t++) {
      const label = b * T + t + 1;
      targets[b * T + t] = tokens[label];
      if (counted(b * T + t)) count++;
    }
    counts.push(count);
    for (let t = 0; t + 1 < T; t++) {
      if (counted(b * T + t)) exampleWeights[b * T + t] = 1 / count;
    }
  }
  const activeExamples = counts.filter((c) => c > 0).length;
  // Weight 1 leaves w / activeExamples as it was (bit for bit: today's training).
  const lossWeights = exampleWeights.map((w, i) => {
    if (activeExamples === 0) return 0;
    const data = dataWeights[Math.floor(i / T)];
    return data === 1 ? w / activeExamples : data * w / activeExamples;
  });
  return {
    B,
    T,
    tokens,
    targets,
    keyMask,
    counts,
    exampleWeights,
    dataWeights,
    lossWeights,
    activeExamples,
  };
}

/**
 * Per-example mean token losses from per-position losses, and the batch loss: their mean over
 * the examples with a counted token, each weighted by its data weight.
 */
export function exampleLosses(
  prepared: PreparedBatch,
  tokenLoss: ArrayLike<number>,
): { perExample: number[]; loss: number } {
  const { B, T, exampleWeights, counts, activeExamples, dataWeights } = prepared;
  const perExample: number[] = [];
  let total = 0;
  for (let b = 0; b < B; b++) {
    // Sum, then divide in float64: the f32 weights 1/count would round the mean.
    let sum = 0;
    for (let t = 0; t < T; t++) {
      if (exampleWeights[b * T + t] !== 0) sum += tokenLoss[b * T + t];
    }
    const mean = counts[b] > 0 ? sum / counts[b] : 0;
    perExample.push(mean);
    total += dataWeights[b] === 1 ? mean : dataWeights[b] * mean;
  }
  return { perExample, loss: activeExamples > 0 ? total / activeExamples : 0 };
}
