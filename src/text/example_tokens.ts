// How a DatasetExample becomes model input. Plain text: every token after the first is a label.
// Prompt → completion: the prompt's tokens are context only; the completion's tokens and the
// end-of-text token appended after it (when the tokenizer has one) are the labels.
import type { DatasetExample } from "../datasets/example.ts";
import { isPromptCompletion } from "../datasets/example.ts";
import type { TextTokenizer } from "./tokenizer.ts";

export interface ExampleTokens {
  tokens: number[];
  /** 1 where the token is a label (HF `labels` ≠ -100), aligned with `tokens`. */
  lossMask: number[];
  /** Labels that count in the loss: predictions made at positions 0..length-2. */
  counted: number;
}

export function tokenizeExample(tokenizer: TextTokenizer, example: DatasetExample): ExampleTokens {
  if (!isPromptCompletion(example)) {
    const tokens = tokenizer.encode(example.text);
    const lossMask = tokens.map(() => 1);
    return { tokens, lossMask, counted: Math.max(0, tokens.length - 1) };
  }
  // Prompt and completion are tokenized separately so the label boundary is a token boundary.
  const prompt = tokenizer.encode(example.prompt);
  const completion = tokenizer.encode(example.completion);
  if (tokenizer.endOfText !== null) completion.push(tokenizer.endOfText);
  const tokens = [...prompt, ...completion];
  const lossMask = [...prompt.map(() => 0), ...completion.map(() => 1)];
  // The first token has no prediction, so a completion without a prompt loses one label.
  const counted = prompt.length > 0 ? completion.length : Math.max(0, completion.length - 1);
  return { tokens, lossMask, counted };
}
