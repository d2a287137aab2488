// Per-example losses of a model: examples are tokenized, checked against the model's context,
// sorted by length (less padding) and run through batched GPU forward passes in chunks whose
// largest buffers (logits [B·T, vocab], attention probabilities [B, H, T, T]) stay within the
// device's storage-binding limit.
import { InvalidInputError } from "../errors.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { dimsOf } from "../gpt2/config.ts";
import { Gpt2Model } from "../gpt2/model.ts";
import { paramLayout } from "../gpt2/layout.ts";
import type { ParamSet } from "../gpt2/params.ts";
import type { DatasetExample } from "../datasets/example.ts";
import { type ExampleTokens, tokenizeExample } from "../text/example_tokens.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";

export interface ExampleLoss {
  /** Position in the request. */
  index: number;
  id: string | null;
  /** Mean token cross-entropy (nats) over the counted tokens. */
  loss: number;
  /** Counted (loss-masked) tokens. */
  tokens: number;
}

/** An example as the losses route receives it: a DatasetExample whose id may be missing. */
export type ScoredExample =
  | { id?: string | null; text: string }
  | { id?: string | null; prompt: string; completion: string };

export const MAX_BATCH = 64;

function label(e: ScoredExample, index: number): string {
  return e.id ? `example ${index} ("${e.id}")` : `example ${index}`;
}

/** Tokenizes and checks every example: 400 naming the first that does not fit or scores nothing. */
export function tokenizeForScoring(
  tokenizer: TextTokenizer,
  examples: readonly ScoredExample[],
  contextLength: number,
): ExampleTokens[] {
  return examples.map((e, index) => {
    const tokens = tokenizeExample(tokenizer, { id: e.id ?? "", ...e } as DatasetExample);
    if (tokens.tokens.length > contextLength) {
      throw new InvalidInputError(
        `${label(e, index)} has ${tokens.tokens.length} tokens, more than the model's context ` +
          `of ${contextLength} (n_positions)`,
        { index, id: e.id ?? null, tokens: tokens.tokens.length, nPositions: contextLength },
        "context_too_long",
      );
    }
    if (tokens.counted === 0) {
      throw new InvalidInputError(
        `${label(e, index)} has no token to score (a text needs at least two tokens)`,
        { index, id: e.id ?? null },
        "nothing_to_score",
      );
    }
    return tokens;
  });
}

/**
 * Splits `order` into consecutive chunks of at most MAX_BATCH examples whose padded size
 * (chunk length × perRow(longest length)) stays within `maxElements`; a single example always
 * forms a chunk.
 */
export function planChunks(
  order: number[],
  lengths: number[],
  perRow: (T: number) => number,
  maxElements: number,
): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let T = 0;
  for (const i of order) {
    const t = Math.max(T, lengths[i]);
    if (
      current.length > 0 &&
      (current.length >= MAX_BATCH || (current.length + 1) * perRow(t) > maxElements)
    ) {
      out.push(current);
      current = [];
      T = 0;
    }
    current.push(i);
    T = Math.max(T, lengths[i]);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Losses of tokenized examples (from tokenizeForScoring), in their order. */
export async function scoreTokens(
  rt: GpuRuntime,
  params: ParamSet,
  encoded: readonly ExampleTokens[],
): Promise<{ loss: number; tokens: number }[]> {
  const { config } = params;
  const { H, f, d } = dimsOf(config);
  const lengths = encoded.map((e) => e.tokens.length);
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const { paddedVocab } = paramLayout(config);
  const limits = rt.device.limits;
  // Half the binding limit leaves room for the next-largest buffers of the same chunk.
  const maxElements = Math.floor(
    Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / 4 / 2,
  );
  const perRow = (T: number) => T * Math.max(paddedVocab, H * T, f, 3 * d);
  const results: { loss: number; tokens: number }[] = new Array(encoded.length);
  const model = Gpt2Model.create(rt, params);
  try {
    for (const chunk of planChunks(order, lengths, perRow, maxElements)) {
      const B = chunk.length;
      const T = Math.max(...chunk.map((i) => lengths[i]));
      const tokens = new Array<number>(B * T).fill(0);
      const attentionMask = new Array<number>(B * T).fill(0);
      const lossMask = new Array<number>(B * T).fill(0);
      chunk.forEach((i, b) => {
        const e = encoded[i];
        for (let t = 0; t < e.tokens.length; t++) {
          tokens[b * T + t] = e.tokens[t];
          attentionMask[b * T + t] = 1;
          lossMask[b * T + t] = e.lossMask[t];
        }
      });
      const { perExample } = await model.forward({ B, T, tokens, attentionMask, lossMask });
      chunk.forEach((i, b) => (results[i] = { loss: perExample[b], tokens: encoded[i].counted }));
    }
  } finally {
    model.dispose();
  }
  return results;
}

/** Tokenizes, checks and scores `examples` (400 naming an example that does not fit). */
export async function computeLosses(
  rt: GpuRuntime,
  params: ParamSet,
  tokenizer: TextTokenizer,
  examples: readonly ScoredExample[],
): Promise<ExampleLoss[]> {
  const encoded = tokenizeForScoring(tokenizer, examples, params.config.n_positions);
  const scores = await scoreTokens(rt, params, encoded);
  return scores.map((s, index) => ({ index, id: examples[index].id ?? null, ...s }));
}
