// DatasetExamples → model inputs. A text example is all labels; a prompt → completion example
// counts only the completion's tokens (and end-of-text, when the tokenizer has one) in the loss.
// Rows are right-padded because the model's positions are 0..T-1 for every row.
import type { DatasetExample } from "../datasets/example.ts";
import type { Batch } from "../gpt2/batch.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { tokenizeExample } from "../text/example_tokens.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { TrainingInputError } from "./errors.ts";

export interface EncodedExample {
  id: string;
  tokens: number[];
  /** Per token: 1 when it is a label whose prediction counts in the loss. */
  lossMask: number[];
}

/** Tokenizes one example and checks it against the model's context and vocabulary. */
export function encodeExample(
  example: DatasetExample,
  tokenizer: TextTokenizer,
  config: Gpt2Config,
): EncodedExample {
  // The same tokens and labels as scoring (POST /v1/models/:id/losses) sees.
  const { tokens, lossMask } = tokenizeExample(tokenizer, example);
  const context = config.n_positions;
  if (tokens.length > context) {
    throw new TrainingInputError(
      "example_too_long",
      `example "${example.id}" has ${tokens.length} tokens; the model's context is ${context}`,
      { exampleId: example.id, tokens: tokens.length, context },
    );
  }
  const bad = tokens.findIndex((id) => !Number.isInteger(id) || id < 0 || id >= config.vocab_size);
  if (bad >= 0) {
    throw new TrainingInputError(
      "token_out_of_vocab",
      `example "${example.id}": token id ${tokens[bad]} at position ${bad} is outside the ` +
        `model's vocabulary [0, ${config.vocab_size})`,
      { exampleId: example.id, tokenId: tokens[bad], position: bad, vocabSize: config.vocab_size },
    );
  }
  // Position 0 is never predicted (there is no beginning-of-text token), so a label must sit at 1+.
  if (!lossMask.some((m, t) => m === 1 && t > 0)) {
    throw new TrainingInputError(
      "example_without_labels",
      `example "${example.id}" has no token whose loss can be counted ` +
        `(it needs at least one label after the first token)`,
      { exampleId: example.id, tokens: tokens.length },
    );
  }
  return { id: example.id, tokens, lossMask };
}

export function encodeExamples(
  examples: readonly DatasetExample[],
  tokenizer: TextTokenizer,
  config: Gpt2Config,
): EncodedExample[] {
  return examples.map((e) => encodeExample(e, tokenizer, config));
}

export interface BatchLayout {
  /** Padded length of every row; default the longest example in the batch. */
  contextLength?: number;
  /**
   * Total rows; default the number of examples. Extra rows repeat the first example with no
   * labels, so they change neither the batch loss nor its gradient (fixed shapes let the model
   * reuse its buffers).
   */
  rows?: number;
}

/** One right-padded batch: padding is never attended to and carries no loss. */
export function buildBatch(examples: readonly EncodedExample[], layout: BatchLayout = {}): Batch {
  if (examples.length === 0) throw new RangeError("a batch needs at least one example");
  const T = layout.contextLength ?? Math.max(...examples.map((e) => e.tokens.length));
  const B = layout.rows ?? examples.length;
  if (B < examples.length) {
    throw new RangeError(`${examples.length} examples do not fit in ${B} rows`);
  }
  const tokens = new Array<number>(B * T).fill(0);
  const attentionMask = new Array<number>(B * T).fill(0);
  const lossMask = new Array<number>(B * T).fill(0);
  for (let b = 0; b < B; b++) {
    const filler = b >= examples.length;
    const e = examples[filler ? 0 : b];
    if (e.tokens.length > T) {
      throw new RangeError(`example "${e.id}" (${e.tokens.length} tokens) exceeds context ${T}`);
    }
    e.tokens.forEach((id, t) => {
      tokens[b * T + t] = id;
      attentionMask[b * T + t] = 1;
      lossMask[b * T + t] = filler ? 0 : e.lossMask[t];
    });
  }
  return { B, T, tokens, attentionMask, lossMask };
}

/** Tokens that are read by the model (not padding), for throughput figures. */
export function realTokens(examples: readonly EncodedExample[]): number {
  return examples.reduce((n, e) => n + e.tokens.length, 0);
}
