// A Hugging Face tokenizer.json (e.g. GPT-2's byte-level BPE) as a TextTokenizer, through the
// maintained @huggingface/tokenizers package: encoding is the library's, never re-implemented here.
import { Tokenizer } from "@huggingface/tokenizers";
import type { TextTokenizer } from "./tokenizer.ts";
import { DomainError } from "../errors.ts";

export class TokenizerError extends DomainError {
  override name = "TokenizerError";
  declare readonly details: { problem: string };
  constructor(message: string, details: { problem: string } = { problem: "invalid" }) {
    super("invalid", "invalid_tokenizer", message, details);
  }
}

/**
 * Caps checked before the library builds anything: its cost grows with these (a million vocabulary
 * entries take ~9 s and ~200 MB to load on a small CPU). GPT-2 has 50,257 tokens, 50,000 merges
 * and one added token.
 */
export const TOKENIZER_LIMITS = { vocab: 1 << 18, merges: 1 << 18, addedTokens: 10_000 };

/** GPT-2's end-of-text token; other conventions are tried after it. */
const END_OF_TEXT_CANDIDATES = ["<|endoftext|>", "</s>", "<eos>"];

/** Parses tokenizer.json and checks it against TOKENIZER_LIMITS, without loading it. */
export function readTokenizerJson(source: string | object): Record<string, unknown> {
  let value: unknown = source;
  if (typeof source === "string") {
    try {
      value = JSON.parse(source);
    } catch (e) {
      throw new TokenizerError(`tokenizer.json is not valid JSON: ${(e as Error).message}`, {
        problem: "json",
      });
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TokenizerError("tokenizer.json must be a JSON object", { problem: "json" });
  }
  const model = (value as Record<string, unknown>).model;
  if (typeof model !== "object" || model === null || Array.isArray(model)) {
    throw new TokenizerError('tokenizer.json has no "model" object', { problem: "model" });
  }
  const vocab = (model as Record<string, unknown>).vocab;
  if (typeof vocab !== "object" || vocab === null) {
    throw new TokenizerError('tokenizer.json\'s "model" has no "vocab"', { problem: "vocab" });
  }
  checkSize(vocabSize(vocab), TOKENIZER_LIMITS.vocab, "model.vocab", "entries");
  const merges = (model as Record<string, unknown>).merges;
  checkSize(Array.isArray(merges) ? merges.length : 0, TOKENIZER_LIMITS.merges, "model.merges");
  const added = (value as Record<string, unknown>).added_tokens;
  checkSize(Array.isArray(added) ? added.length : 0, TOKENIZER_LIMITS.addedTokens, "added_tokens");
  const regex = findRegex(value);
  if (regex !== null) {
    throw new TokenizerError(
      `tokenizer.json: ${regex} holds a custom regular expression; only the built-in ` +
        "pre-tokenizers are accepted (a backtracking pattern can take exponential time)",
      { problem: "regex" },
    );
  }
  return value as Record<string, unknown>;
}

/** Entries of a vocabulary: an object {token: id} (BPE) or an array of [token, score] (Unigram). */
function vocabSize(vocab: object): number {
  if (Array.isArray(vocab)) return vocab.length;
  let n = 0;
  for (const _ in vocab) n++;
  return n;
}

/**
 * The ids a checked tokenizer.json declares, 1 + the largest of its vocabulary's and added tokens',
 * as the loaded tokenizer would report them: cheap, so a model can refuse a vocabulary too large
 * for it before the library loads it.
 */
export function declaredIdCount(json: Record<string, unknown>): number {
  const vocab = (json.model as { vocab: object }).vocab;
  let maxId = -1;
  if (Array.isArray(vocab)) maxId = vocab.length - 1;
  else {
    for (const id of Object.values(vocab)) {
      if (typeof id === "number" && id > maxId) maxId = id;
    }
  }
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  for (const token of added) {
    const id = (token as { id?: unknown } | null)?.id;
    if (typeof id === "number" && id > maxId) maxId = id;
  }
  return maxId + 1;
}

function checkSize(count: number, limit: number, field: string, what = "items"): void {
  if (count > limit) {
    throw new TokenizerError(
      `tokenizer.json: ${field} has ${count} ${what}; the limit is ${limit}`,
      {
        problem: "too_large",
      },
    );
  }
}

const MAX_CONFIG_DEPTH = 32;

/** The path of the first {"Regex": …} pattern (Split pre-tokenizer, Replace normalizer), or null. */
function findRegex(value: unknown, path = "tokenizer", depth = 0): string | null {
  if (typeof value !== "object" || value === null) return null;
  if (depth > MAX_CONFIG_DEPTH) {
    throw new TokenizerError(
      `tokenizer.json: ${path} nests deeper than ${MAX_CONFIG_DEPTH} levels`,
      {
        problem: "depth",
      },
    );
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findRegex(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  for (const [key, child] of Object.entries(value)) {
    // The vocabulary and merges are data, not configuration.
    if (key === "vocab" || key === "merges" || key === "added_tokens") continue;
    if (key === "Regex") return path;
    const found = findRegex(child, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return null;
}

export interface HfTextTokenizer extends TextTokenizer {
  readonly kind: "huggingface";
  /** The tokenizer.json this was built from, to store next to the model. */
  readonly json: string;
  decode(ids: number[]): string;
}

/** Builds a tokenizer from tokenizer.json text or its parsed object; TokenizerError when unusable. */
export function hfTokenizer(source: string | object): HfTextTokenizer {
  const json = readTokenizerJson(source);
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, {});
  } catch (e) {
    throw new TokenizerError(`tokenizer.json cannot be loaded: ${(e as Error).message}`, {
      problem: "load",
    });
  }
  let maxId = -1;
  for (const id of tokenizer.get_vocab(true).values()) maxId = Math.max(maxId, id);
  if (maxId < 0) throw new TokenizerError("tokenizer.json has an empty vocabulary");
  let endOfText: number | null = null;
  for (const candidate of END_OF_TEXT_CANDIDATES) {
    const id = tokenizer.token_to_id(candidate);
    if (id !== undefined) {
      endOfText = id;
      break;
    }
  }
  const text = typeof source === "string" ? source : JSON.stringify(source);
  return {
    kind: "huggingface",
    json: text,
    endOfText,
    vocabSize: maxId + 1,
    encode: (input) => tokenizer.encode(input, { add_special_tokens: false }).ids,
    decode: (ids) => tokenizer.decode(ids, { skip_special_tokens: false }),
  };
}
