// The tokenizer interface the training and scoring code uses: the byte-level tokenizer for models
// created here, or a Hugging Face tokenizer.json (GPT-2 BPE) supplied with an uploaded model.
import { BYTE_VOCAB_SIZE, encodeBytes, END_OF_TEXT } from "./byte_tokenizer.ts";

export interface TextTokenizer {
  readonly kind: "byte" | "huggingface";
  /** Token ids of `text`, without special tokens. */
  encode(text: string): number[];
  /** The end-of-text id appended after a completion, or null when the tokenizer has none. */
  readonly endOfText: number | null;
  /** Ids are < vocabSize; a model's vocab_size must be at least this. */
  readonly vocabSize: number;
}

export const byteTokenizer: TextTokenizer = {
  kind: "byte",
  encode: (text) => encodeBytes(text),
  endOfText: END_OF_TEXT,
  vocabSize: BYTE_VOCAB_SIZE,
};
