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

/** GPT-2's end-of-text token; other conventions are tried after it. */
const END_OF_TEXT_CANDIDATES = ["<|endoftext|>", "</s>", "<eos>"];

function parseJson(source: string | object): Record<string, unknown> {
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
  return value as Record<string, unknown>;
}

export interface HfTextTokenizer extends TextTokenizer {
  readonly kind: "huggingface";
  /** The tokenizer.json this was built from, to store next to the model. */
  readonly json: string;
  decode(ids: number[]): string;
}

/** Builds a tokenizer from tokenizer.json text or its parsed object; TokenizerError when unusable. */
export function hfTokenizer(source: string | object): HfTextTokenizer {
  const json = parseJson(source);
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
