// The safetensors format: an 8-byte little-endian u64 header length N, N bytes of UTF-8 JSON
// mapping names to {dtype, shape, data_offsets:[begin, end]} (offsets from the end of the header)
// plus an optional "__metadata__" map of strings, then the raw little-endian row-major data.
// Decoding validates everything a hostile upload could get wrong; errors are invalid-input
// DomainErrors (a 400 over HTTP).
//
// Typed arrays use the host's byte order; every platform Deno ships for is little-endian.
import { DomainError } from "../errors.ts";

export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;

export type Dtype = keyof typeof DTYPE_BYTES;

export interface TensorEntry {
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes (a view into the decoded file, not a copy). */
  data: Uint8Array;
}

export interface Safetensors {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** What `encodeSafetensors` accepts: f32 arrays directly, or raw bytes of any dtype. */
export type TensorInput = { shape: readonly number[]; data: Float32Array } | TensorEntry;

export type SafetensorsProblem =
  | "truncated"
  | "header_length"
  | "header_json"
  | "metadata"
  | "entry"
  | "dtype"
  | "offsets";

export class SafetensorsError extends DomainError {
  override name = "SafetensorsError";
  declare readonly details: { problem: SafetensorsProblem; tensor?: string };
  constructor(readonly problem: SafetensorsProblem, message: string, tensor?: string) {
    super(
      "invalid",
      "invalid_safetensors",
      `invalid safetensors: ${message}`,
      tensor === undefined ? { problem } : { problem, tensor },
    );
  }
}

/** Same cap as the reference implementation: a larger header is an attack, not a model. */
export const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && Object.hasOwn(DTYPE_BYTES, value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function asEntry(name: string, input: TensorInput): TensorEntry {
  if (!Array.isArray(input.shape) || !input.shape.every(isCount)) {
    throw new RangeError(`tensor "${name}": shape must hold non-negative integers`);
  }
  if (input.data instanceof Float32Array) {
    const size = elementCount(input.shape);
    if (input.data.length !== size) {
      throw new RangeError(
        `tensor "${name}": ${input.data.length} values do not fill shape [${input.shape}]`,
      );
    }
    const { buffer, byteOffset, byteLength } = input.data;
    return {
      dtype: "F32",
      shape: [...input.shape],
      data: new Uint8Array(buffer, byteOffset, byteLength),
    };
  }
  const entry = input as TensorEntry;
  if (!isDtype(entry.dtype)) throw new RangeError(`tensor "${name}": unknown dtype ${entry.dtype}`);
  const bytes = elementCount(entry.shape) * DTYPE_BYTES[entry.dtype];
  if (entry.data.byteLength !== bytes) {
    throw new RangeError(`tensor "${name}": ${entry.data.byteLength} bytes, shape needs ${bytes}`);
  }
  return entry;
}

export function encodeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  const entries: [string, TensorEntry][] = [];
  let offset = 0;
  for (const [name, input] of Object.entries(tensors)) {
    if (name === METADATA_KEY) throw new RangeError(`"${METADATA_KEY}" is not a tensor name`);
    const entry = asEntry(name, input);
    header[name] = {
      dtype: entry.dtype,
      shape: entry.shape,
      data_offsets: [offset, offset + entry.data.byteLength],
    };
    entries.push([name, entry]);
    offset += entry.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to 8 bytes so the data starts aligned for any dtype.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withPadding = new Uint8Array(padded).fill(0x20);
    withPadding.set(json);
    json = withPadding;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, entry] of entries) {
    out.set(entry.data, at);
    at += entry.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.byteLength < 8) {
    throw new SafetensorsError(
      "truncated",
      `${bytes.byteLength} bytes is shorter than the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw new SafetensorsError(
      "header_length",
      `header length ${headerLength} exceeds ${
        headerLength > BigInt(MAX_HEADER_BYTES)
          ? `the ${MAX_HEADER_BYTES}-byte limit`
          : `the ${bytes.byteLength - 8} bytes after it`
      }`,
    );
  }
  const n = Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError("header_json", `header is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("header_json", "header must be a JSON object");
  }
  const data = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, TensorEntry>();
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new SafetensorsError("metadata", `${METADATA_KEY} must be an object of strings`);
      }
      for (const [key, value] of Object.entries(raw)) {
        if (typeof value !== "string") {
          throw new SafetensorsError("metadata", `${METADATA_KEY}.${key} must be a string`);
        }
        metadata[key] = value;
      }
      continue;
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new SafetensorsError("entry", `entry must be an object`, name);
    }
    const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw new SafetensorsError("dtype", `unknown dtype ${JSON.stringify(dtype)}`, name);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) {
      throw new SafetensorsError("entry", "shape must be an array of non-negative integers", name);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      throw new SafetensorsError("entry", "data_offsets must be [begin, end] integers", name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > data.byteLength) {
      throw new SafetensorsError(
        "offsets",
        `data_offsets [${begin}, ${end}] fall outside the ${data.byteLength} data bytes`,
        name,
      );
    }
    const expected = elementCount(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw new SafetensorsError(
        "offsets",
        `data_offsets span ${end - begin} bytes but ${dtype}[${shape}] needs ${expected}`,
        name,
      );
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape, data: data.subarray(begin, end) });
  }
  // Like the reference implementation: tensors tile the data exactly, no overlaps or gaps.
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const span of spans) {
    if (span.begin !== covered) {
      throw new SafetensorsError(
        "offsets",
        span.begin < covered ? "overlaps another tensor" : `leaves a gap before byte ${span.begin}`,
        span.name,
      );
    }
    covered = span.end;
  }
  if (covered !== data.byteLength) {
    throw new SafetensorsError(
      "offsets",
      `tensors cover ${covered} of the ${data.byteLength} data bytes`,
    );
  }
  return { tensors, metadata };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** A fresh f32 copy of a floating-point tensor (F32, F16, BF16 or F64). */
export function toFloat32(entry: TensorEntry): Float32Array {
  const n = elementCount(entry.shape);
  // Copy first: the view may sit at an offset that is not a multiple of the element size.
  const bytes = entry.data.slice();
  switch (entry.dtype) {
    case "F32":
      return new Float32Array(bytes.buffer, 0, n);
    case "F64":
      return Float32Array.from(new Float64Array(bytes.buffer, 0, n));
    case "F16": {
      const halves = new Uint16Array(bytes.buffer, 0, n);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16ToF32(halves[i]);
      return out;
    }
    case "BF16": {
      const halves = new Uint16Array(bytes.buffer, 0, n);
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = halves[i] << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new SafetensorsError("dtype", `dtype ${entry.dtype} is not a floating-point type`);
  }
}
