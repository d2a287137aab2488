// A model's tokenizer: byte-level unless a tokenizer.json came with it. Its ids must fit the
// model's vocabulary.
import { InvalidInputError } from "../errors.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { hfTokenizer } from "../text/hf_tokenizer.ts";
import { byteTokenizer, type TextTokenizer } from "../text/tokenizer.ts";
import type { TokenizerKind } from "./model_store.ts";

export interface ModelTokenizer {
  tokenizer: TextTokenizer;
  kind: TokenizerKind;
  json: string | null;
}

/** 400 when the tokenizer can produce ids at or above vocab_size. */
export function modelTokenizer(config: Gpt2Config, json: string | object | null): ModelTokenizer {
  const tokenizer = json === null ? byteTokenizer : hfTokenizer(json);
  if (tokenizer.vocabSize > config.vocab_size) {
    throw new InvalidInputError(
      `the ${tokenizer.kind} tokenizer has ${tokenizer.vocabSize} ids but the config's ` +
        `vocab_size is ${config.vocab_size}`,
      { field: "vocab_size", tokenizerVocab: tokenizer.vocabSize, vocabSize: config.vocab_size },
      "invalid_model_config",
    );
  }
  return json === null ? { tokenizer, kind: "byte", json: null } : {
    tokenizer,
    kind: "huggingface",
    json: typeof json === "string" ? json : JSON.stringify(json),
  };
}
