// One dataset example: plain text (every token is a label) or prompt → completion (only the
// completion's tokens count in the loss).
export type DatasetExample =
  | { id: string; text: string }
  | { id: string; prompt: string; completion: string };

export function isPromptCompletion(
  e: DatasetExample,
): e is { id: string; prompt: string; completion: string } {
  return "prompt" in e;
}
