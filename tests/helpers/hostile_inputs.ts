// Hostile input, shared by the property test (and its long fuzz mode) and the hostile-input tests:
// names and ids with control characters, bidi overrides, lone surrogates and path traversal; JSON
// nested deeper than parsers recurse, with duplicate keys, huge numbers and -0; zip bombs;
// safetensors headers that claim terabytes; tokenizer.json files that load or run for minutes.
import fc from "fast-check";
import { Zip, ZipDeflate } from "fflate";

const MiB = 1024 * 1024;

/** Names and ids no store may take at face value. */
export const HOSTILE_STRINGS = [
  "\u0000",
  "st\u0000a",
  "n\u0000A",
  "tab\there",
  "line\nbreak",
  "\u001b[31mred",
  "del\u007f",
  "c1\u0085",
  "\u202eevil",
  "iso\u2066late",
  "\u200fmark",
  "\ufeffbom",
  "lone\ud800",
  "\udc00lone",
  "../../../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2f",
  "..\\..\\windows",
  "/tmp/absolute",
  "tensors/../../x",
  "%00",
  " ",
  "x".repeat(257),
  "x".repeat(MiB),
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  // A hostile piece inside an ordinary id.
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(...HOSTILE_STRINGS.slice(0, 16)),
      fc.string({ maxLength: 6 }),
    ).map((parts) => parts.join("")),
  },
  // Any code unit at all, lone surrogates and controls included.
  {
    weight: 1,
    arbitrary: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 8 })
      .map((units) => String.fromCharCode(...units)),
  },
);

/** `depth` nested arrays (or objects) around `inner`, as text: JSON.parse recurses on these. */
export function nestedJson(depth: number, kind: "array" | "object" = "array", inner = "1"): string {
  return kind === "array"
    ? "[".repeat(depth) + inner + "]".repeat(depth)
    : '{"a":'.repeat(depth) + inner + "}".repeat(depth);
}

/** Deeply nested JSON text of at most about `maxChars`, alone or as a field's value. */
export function deepJson(maxChars: number): fc.Arbitrary<string> {
  return fc.tuple(
    fc.integer({ min: 1_000, max: Math.max(1_001, Math.floor(maxChars / 6)) }),
    fc.constantFrom("array", "object") as fc.Arbitrary<"array" | "object">,
    fc.constantFrom(null, "study", "name", "config", "tokenizer", "curriculum", "runs", "examples"),
  ).map(([depth, kind, field]) => {
    const deep = nestedJson(depth, kind);
    return field === null ? deep : `{${JSON.stringify(field)}: ${deep}}`;
  });
}

/** Numbers JSON.parse turns into Infinity, -0, 0 or a rounded integer. */
export const HOSTILE_NUMBERS = [
  "1e400",
  "-1e400",
  "-0",
  "-0.0",
  "1e-400",
  "1e308",
  "123456789012345678901234567890",
  "9007199254740993",
  "0.1e1",
];

/**
 * A JSON object's text with hostile twists: its first number replaced by a hostile one, or a key
 * given twice (the first value hostile, the last the original, or the other way round).
 */
export function twistedJson(object: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.tuple(
    object,
    fc.constantFrom(...HOSTILE_NUMBERS),
    fc.constantFrom(...HOSTILE_STRINGS.slice(0, 16)),
    fc.constantFrom("number", "dupFirst", "dupLast"),
  ).map(([value, number, string, twist]) => {
    const text = JSON.stringify(value) ?? "null";
    if (twist === "number") {
      return text.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][+-]?\d+)?/, number);
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) return text;
    const key = Object.keys(value)[0];
    if (key === undefined) return text;
    const twin = `${JSON.stringify(key)}: ${JSON.stringify(string)}`;
    return twist === "dupFirst" ? `{${twin}, ${text.slice(1)}` : `${text.slice(0, -1)}, ${twin}}`;
  });
}

/** A zip whose entries inflate to the given numbers of zero bytes, built as a stream. */
export function zipBomb(entries: [string, number][]): Uint8Array<ArrayBuffer> {
  const out: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    out.push(chunk);
  });
  const zeros = new Uint8Array(MiB);
  for (const [name, bytes] of entries) {
    const file = new ZipDeflate(name, { level: 9 });
    zip.add(file);
    if (bytes === 0) file.push(new Uint8Array(0), true);
    for (let sent = 0; sent < bytes; sent += zeros.length) {
      file.push(zeros.subarray(0, Math.min(zeros.length, bytes - sent)), sent + MiB >= bytes);
    }
  }
  zip.end();
  const all = new Uint8Array(out.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of out) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/** A safetensors file with this header (JSON) and `dataBytes` zeros, its length field optional. */
export function safetensorsWith(
  header: unknown,
  dataBytes = 0,
  declared?: bigint,
): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const TB = 2 ** 40;

/** Safetensors files that claim far more than they hold. */
export function hostileSafetensors(): Uint8Array<ArrayBuffer>[] {
  return [
    safetensorsWith({}, 0, BigInt(TB)),
    safetensorsWith({}, 0, 2n ** 64n - 1n),
    safetensorsWith({ "wte.weight": { dtype: "F32", shape: [TB / 4], data_offsets: [0, TB] } }, 16),
    safetensorsWith({
      "wte.weight": { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 16] },
    }, 16),
    safetensorsWith({ "wte.weight": { dtype: "F32", shape: [4], data_offsets: [0, 2 ** 60] } }, 16),
  ];
}

/** tokenizer.json objects that would run (ReDoS) or load (sizes) for a long time. */
export function hostileTokenizers(): Record<string, unknown>[] {
  const bpe = (extra: Record<string, unknown>) => ({
    model: { type: "BPE", vocab: { a: 0, b: 1 }, merges: [] },
    ...extra,
  });
  return [
    bpe({ pre_tokenizer: { type: "Split", pattern: { Regex: "(a+)+$" }, behavior: "Isolated" } }),
    bpe({
      normalizer: {
        type: "Sequence",
        normalizers: [{ type: "Replace", pattern: { Regex: "(x|x)*y" }, content: "" }],
      },
    }),
    bpe({ added_tokens: [{ id: 2 ** 31, content: "<big>", special: true }] }),
    { model: { type: "BPE", vocab: { a: 1e9 }, merges: [] } },
    bpe({ added_tokens: Array.from({ length: 10_001 }, (_, i) => ({ id: i, content: `<${i}>` })) }),
  ];
}
