// Where each parameter lives in the model's flat GPU buffers (parameters, gradients, optimiser
// state share it). Decayed tensors (matrices, embeddings) come first so that one optimiser
// launch can tell them apart by index; every tensor starts 4-aligned, which lets matmul take
// its vec4 path on weight views. The token embedding's slot holds `paddedVocab` rows (the
// vocabulary rounded up to a multiple of 4, extra rows zero and never updated) so that the tied
// LM head's matmuls have a 4-aligned N / K too (GPT-2's 50257 is odd).
import type { Gpt2Config } from "./config.ts";
import { type ParamSpec, paramSpecs } from "./params.ts";

export interface ParamSlot extends ParamSpec {
  offset: number;
  /** Elements reserved (size plus zero padding rows, for wte). */
  reserved: number;
}

export interface ParamLayout {
  slots: ParamSlot[];
  byName: Map<string, ParamSlot>;
  /** Elements in the flat buffer, padding included. */
  total: number;
  /** Elements below this index get weight decay. */
  decayEnd: number;
  /** vocab_size rounded up to a multiple of 4: wte's rows in the flat buffer. */
  paddedVocab: number;
}

const ALIGN = 4;

export function paramLayout(config: Gpt2Config): ParamLayout {
  const specs = paramSpecs(config);
  const paddedVocab = Math.ceil(config.vocab_size / ALIGN) * ALIGN;
  const ordered = [...specs.filter((s) => s.decay), ...specs.filter((s) => !s.decay)];
  const slots: ParamSlot[] = [];
  let offset = 0;
  let decayEnd = 0;
  for (const spec of ordered) {
    const size = spec.name === "wte.weight" ? paddedVocab * config.n_embd : spec.size;
    const reserved = Math.ceil(size / ALIGN) * ALIGN;
    slots.push({ ...spec, offset, reserved });
    offset += reserved;
    if (spec.decay) decayEnd = offset;
  }
  return {
    slots,
    byName: new Map(slots.map((s) => [s.name, s])),
    total: offset,
    decayEnd,
    paddedVocab,
  };
}

/** Packs named arrays into one flat array (padding 0). */
export function packParams(
  layout: ParamLayout,
  values: Map<string, ArrayLike<number>>,
): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.total);
  for (const slot of layout.slots) {
    const v = values.get(slot.name);
    if (!v || v.length !== slot.size) {
      throw new RangeError(`parameter ${slot.name} missing or mis-sized`);
    }
    flat.set(v, slot.offset);
  }
  return flat;
}

export function unpackParams(layout: ParamLayout, flat: Float32Array): Map<string, Float32Array> {
  return new Map(
    layout.slots.map((s) => [s.name, flat.slice(s.offset, s.offset + s.size)]),
  );
}
