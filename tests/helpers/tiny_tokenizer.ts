// A tokenizer.json fixture in GPT-2's format, small enough to check encodings by hand.

/**
 * GPT-2's tokenizer.json layout with a 9-token vocabulary: byte-level pre-tokenization maps a space
 * to "Ġ"; the merges build "ab", then "Ġab", then "Ġabc", and last "Ġa".
 */
export function tinyTokenizerJson(): Record<string, unknown> {
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{
      id: 8,
      content: "<|endoftext|>",
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    }],
    normalizer: null,
    pre_tokenizer: {
      type: "ByteLevel",
      add_prefix_space: false,
      trim_offsets: true,
      use_regex: true,
    },
    post_processor: {
      type: "ByteLevel",
      add_prefix_space: true,
      trim_offsets: false,
      use_regex: true,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      vocab: { a: 0, b: 1, c: 2, "Ġ": 3, ab: 4, "Ġa": 5, "Ġab": 6, "Ġabc": 7 },
      merges: ["a b", "Ġ ab", "Ġab c", "Ġ a"],
    },
  };
}
