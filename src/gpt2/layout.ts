// Where each parameter lives in the model's GPU buffers (parameters, gradients and optimiser
// state share the layout). Decayed tensors (matrices, embeddings) come first so that one
// optimiser launch can tell them apart by index; every tensor starts 4-aligned, which lets
// matmul take its vec4 path on weight views. The token embedding holds `paddedVocab` rows (the
// vocabulary rounded up to a multiple of 4, extra rows zero and never updated) so that the tied
// LM head's matmuls have a 4-aligned N / K too (GPT-2's 50257 is odd).
//
// Kernels bind whole buffers, and a binding may not exceed the device's
// maxStorageBufferBindingSize (128 MiB on llvmpipe, less than GPT-2-124M's 498 MB of
// parameters). So the parameters are split into segments, each its own buffer of at most
// `maxSegmentElements`; a parameter never straddles two. The token embedding alone may exceed
// that (50257 × 768 × 4 B = 154 MB), so its rows are split into vocabulary blocks, each a
// parameter-like slot of its own. Small models get one segment and one block, as before.
import type { Tensor } from "../gpu/tensor.ts";
import type { Gpt2Config } from "./config.ts";
import { type ParamSpec, paramSpecs } from "./params.ts";
import { DomainError } from "../errors.ts";

export interface ParamSlot extends ParamSpec {
  /** The segment (buffer) holding it. */
  segment: number;
  /** Element offset within the segment (for wte: of its first vocabulary block). */
  offset: number;
  /** Elements reserved (size plus zero padding rows, for wte). */
  reserved: number;
}

/** Rows [start, start + rows) of wte (padding rows included) at `offset` of `segment`. */
export interface VocabBlock {
  segment: number;
  offset: number;
  start: number;
  rows: number;
}

export interface ParamSegment {
  /** Elements in the segment's buffer. */
  size: number;
  /** Elements below this index of the segment get weight decay. */
  decayEnd: number;
}

export interface ParamLayout {
  slots: ParamSlot[];
  byName: Map<string, ParamSlot>;
  segments: ParamSegment[];
  /** wte's rows in order; one block unless wte is larger than a segment. */
  vocabBlocks: VocabBlock[];
  /** Elements over all segments, padding included. */
  total: number;
  /** vocab_size rounded up to a multiple of 4: wte's rows. */
  paddedVocab: number;
}

const ALIGN = 4;

/** A parameter (or group bound as one) larger than one buffer binding of this device. */
export class ModelTooLargeError extends DomainError {
  override name = "ModelTooLargeError";
  declare readonly details: { tensor: string; elements: number; maxBindableElements: number };
  constructor(what: string, elements: number, maxBindableElements: number) {
    super(
      "invalid",
      "model_too_large_for_device",
      `${what} (${elements} elements) exceeds the largest buffer this GPU can bind ` +
        `(${maxBindableElements} elements)`,
      { tensor: what, elements, maxBindableElements },
    );
  }
}

/** The largest segment the device can bind, in elements (a multiple of 4). */
export function maxSegmentElements(limits: { maxStorageBufferBindingSize: number }): number {
  return Math.floor(limits.maxStorageBufferBindingSize / 4 / ALIGN) * ALIGN;
}

/**
 * The layout for `config` with segments of at most `maxElements` (default: unlimited, one
 * segment). Throws when a single non-embedding parameter, or the non-decayed parameters
 * together (kept in one segment since layer-norm kernels bind weight and bias as one buffer),
 * do not fit.
 */
export function paramLayout(config: Gpt2Config, maxElements = Infinity): ParamLayout {
  const specs = paramSpecs(config);
  const d = config.n_embd;
  const paddedVocab = Math.ceil(config.vocab_size / ALIGN) * ALIGN;
  const decayed = specs.filter((s) => s.decay);
  const plain = specs.filter((s) => !s.decay);
  const reserve = (size: number) => Math.ceil(size / ALIGN) * ALIGN;

  const segments: ParamSegment[] = [{ size: 0, decayEnd: 0 }];
  /** Room for `size` more elements: the current segment, or a new one. */
  const place = (
    size: number,
    what: string,
    decay: boolean,
  ): { segment: number; offset: number } => {
    if (size > maxElements) throw new ModelTooLargeError(what, size, maxElements);
    let current = segments[segments.length - 1];
    if (current.size + size > maxElements) {
      current = { size: 0, decayEnd: 0 };
      segments.push(current);
    }
    const at = { segment: segments.length - 1, offset: current.size };
    current.size += size;
    // Decayed items all come first, so each segment's decayed elements are a prefix.
    if (decay) current.decayEnd = current.size;
    return at;
  };

  const slots: ParamSlot[] = [];
  const vocabBlocks: VocabBlock[] = [];
  for (const spec of decayed) {
    if (spec.name === "wte.weight") {
      const maxRows = Math.max(ALIGN, Math.floor(maxElements / d / ALIGN) * ALIGN);
      for (let start = 0; start < paddedVocab; start += maxRows) {
        const rows = Math.min(maxRows, paddedVocab - start);
        vocabBlocks.push({ ...place(rows * d, "a block of wte rows", true), start, rows });
      }
      const first = vocabBlocks[0];
      slots.push({ ...spec, ...first, reserved: paddedVocab * d });
    } else {
      const reserved = reserve(spec.size);
      slots.push({ ...spec, ...place(reserved, spec.name, true), reserved });
    }
  }
  const plainTotal = plain.reduce((n, s) => n + reserve(s.size), 0);
  const group = place(plainTotal, "the biases and layer-norm parameters", false);
  let offset = group.offset;
  for (const spec of plain) {
    const reserved = reserve(spec.size);
    slots.push({ ...spec, segment: group.segment, offset, reserved });
    offset += reserved;
  }
  return {
    slots,
    byName: new Map(slots.map((s) => [s.name, s])),
    segments,
    vocabBlocks,
    total: segments.reduce((n, s) => n + s.size, 0),
    paddedVocab,
  };
}

/** Packs named arrays into one array per segment (padding 0). */
export function packParams(
  layout: ParamLayout,
  values: Map<string, ArrayLike<number>>,
): Float32Array<ArrayBuffer>[] {
  const flats = layout.segments.map((s) => new Float32Array(s.size));
  for (const slot of layout.slots) {
    const v = values.get(slot.name);
    if (!v || v.length !== slot.size) {
      throw new RangeError(`parameter ${slot.name} missing or mis-sized`);
    }
    if (slot.name === "wte.weight") {
      const d = slot.shape[1];
      const all = v instanceof Float32Array ? v : Float32Array.from(v);
      for (const block of layout.vocabBlocks) {
        const end = Math.min(slot.shape[0], block.start + block.rows) * d;
        if (end > block.start * d) {
          flats[block.segment].set(all.subarray(block.start * d, end), block.offset);
        }
      }
    } else {
      flats[slot.segment].set(v, slot.offset);
    }
  }
  return flats;
}

/** The named arrays from one array per segment. */
export function unpackParams(
  layout: ParamLayout,
  flats: readonly Float32Array[],
): Map<string, Float32Array> {
  return new Map(layout.slots.map((s) => {
    if (s.name !== "wte.weight") {
      return [s.name, flats[s.segment].slice(s.offset, s.offset + s.size)];
    }
    const d = s.shape[1];
    const out = new Float32Array(s.size);
    for (const block of layout.vocabBlocks) {
      const rows = Math.min(block.rows, s.shape[0] - block.start);
      if (rows > 0) {
        out.set(
          flats[block.segment].subarray(block.offset, block.offset + rows * d),
          block.start * d,
        );
      }
    }
    return [s.name, out];
  }));
}

/**
 * The ranges of gradient-layout buffers (one per segment) that a backward adds into rather than
 * overwrites: the LayerNorm parameters, which lead the non-decayed group, and wpe. They must
 * start at zero. (The rest is overwritten: zeroing all of GPT-2-124M's gradients would cost ~5 %
 * of its forward and backward on llvmpipe.)
 */
export function accumulatedRanges(layout: ParamLayout, segments: readonly Tensor[]): Tensor[] {
  const plain = layout.slots.filter((s) => !s.decay);
  const first = plain[0], last = plain[plain.length - 1];
  const wpe = layout.byName.get("wpe.weight")!;
  const range = (segment: number, from: number, to: number) =>
    segments[segment].view([to - from], undefined, from);
  return [
    range(first.segment, first.offset, last.offset + last.reserved),
    range(wpe.segment, wpe.offset, wpe.offset + wpe.reserved),
  ];
}
