// Whole Server-Sent Events out of a stream read chunk by chunk: a chunk may end anywhere, so text
// after the last blank line waits for the next chunk. Shared by the load generators and tests.

/** The complete event blocks in `pending + chunk`, and the unfinished text to keep for later. */
export function takeEventBlocks(pending: string, chunk: string): { blocks: string; rest: string } {
  const whole = pending + chunk;
  const at = whole.lastIndexOf("\n\n");
  // No blank line yet: nothing is complete, and all of it waits (it must not lose a character).
  if (at < 0) return { blocks: "", rest: whole };
  return { blocks: whole.slice(0, at + 2), rest: whole.slice(at + 2) };
}
