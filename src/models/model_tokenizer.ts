// A model's tokenizer: byte-level unless a tokenizer.json came with it. Its ids must fit the
// model's vocabulary.
import { InvalidInputError } from "../errors.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { declaredIdCount, hfTokenizer, readTokenizerJson } from "../text/hf_tokenizer.ts";
import { byteTokenizer, type TextTokenizer } from "../text/tokenizer.ts";
import type { TokenizerKind } from "./model_store.ts";

export interface ModelTokenizer {
  tokenizer: TextTokenizer;
  kind: TokenizerKind;
  json: string | null;
}

/** 400 when the tokenizer can produce ids at or above vocab_size. */
export function modelTokenizer(config: Gpt2Config, json: string | object | null): ModelTokenizer {
  // The vocabulary must fit the model: checked on the JSON first, before the library spends
  // seconds loading a vocabulary too large for it, then on what the library loaded.
  const parsed = json === null ? null : readTokenizerJson(json);
  if (parsed !== null) tooManyIds(config, "huggingface", declaredIdCount(parsed));
  const tokenizer = parsed === null ? byteTokenizer : hfTokenizer(parsed);
  tooManyIds(config, tokenizer.kind, tokenizer.vocabSize);
  return json === null ? { tokenizer, kind: "byte", json: null } : {
    tokenizer,
    kind: "huggingface",
    json: typeof json === "string" ? json : JSON.stringify(json),
  };
}

function tooManyIds(config: Gpt2Config, kind: string, ids: number): void {
  if (ids > config.vocab_size) {
    throw new InvalidInputError(
      `the ${kind} tokenizer has ${ids} ids but the config's vocab_size is ${config.vocab_size}`,
      { field: "vocab_size", tokenizerVocab: ids, vocabSize: config.vocab_size },
      "invalid_model_config",
    );
  }
}
