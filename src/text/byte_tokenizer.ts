// Byte-level tokenizer for models created here: ids 0..255 are the UTF-8 bytes, 256 is
// end-of-text. Lossless for any string; vocab_size must be at least 257.

export const BYTE_VOCAB_SIZE = 257;
export const END_OF_TEXT = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeBytes(text: string, options: { endOfText?: boolean } = {}): number[] {
  const ids = Array.from(encoder.encode(text));
  if (options.endOfText) ids.push(END_OF_TEXT);
  return ids;
}

/** Decodes bytes up to the first end-of-text id; invalid UTF-8 becomes U+FFFD. */
export function decodeBytes(ids: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id === END_OF_TEXT) break;
    if (!Number.isInteger(id) || id < 0 || id > 255) {
      throw new RangeError(`token id ${id} at ${i} is not a byte-level id`);
    }
    bytes.push(id);
  }
  return decoder.decode(new Uint8Array(bytes));
}
