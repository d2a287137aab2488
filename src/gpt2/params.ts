// The GPT-2 parameter set under Hugging Face names and layouts, GPT-2 initialisation, and
// safetensors load / save.
//
// Layouts (row-major, as HF stores them): wte [V, d], wpe [P, d]; every linear layer is a Conv1D
// whose weight is [d_in, d_out] and is applied as x·W + b (c_attn [d, 3d], attn.c_proj [d, d],
// mlp.c_fc [d, f], mlp.c_proj [f, d]); LayerNorm weight / bias [d]. The LM head is wte itself.
import { seededNormal } from "../random.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type TensorEntry,
  toFloat32,
} from "../store/safetensors.ts";
import { ConfigError, dimsOf, type Gpt2Config, parseGpt2Config, toHfConfig } from "./config.ts";
import { DomainError } from "../errors.ts";

export type ParamInit = "normal" | "normal_scaled" | "zeros" | "ones";

export interface ParamSpec {
  name: string;
  shape: number[];
  size: number;
  /** Matrices and embeddings get weight decay; biases and LayerNorm parameters do not. */
  decay: boolean;
  init: ParamInit;
}

/** Every parameter in HF order. */
export function paramSpecs(config: Gpt2Config): ParamSpec[] {
  const { V, P, d, L, f } = dimsOf(config);
  const specs: ParamSpec[] = [];
  const add = (name: string, shape: number[], init: ParamInit) =>
    specs.push({
      name,
      shape,
      size: shape.reduce((a, b) => a * b, 1),
      decay: shape.length === 2,
      init,
    });
  add("wte.weight", [V, d], "normal");
  add("wpe.weight", [P, d], "normal");
  for (let i = 0; i < L; i++) {
    const h = `h.${i}`;
    add(`${h}.ln_1.weight`, [d], "ones");
    add(`${h}.ln_1.bias`, [d], "zeros");
    add(`${h}.attn.c_attn.weight`, [d, 3 * d], "normal");
    add(`${h}.attn.c_attn.bias`, [3 * d], "zeros");
    add(`${h}.attn.c_proj.weight`, [d, d], "normal_scaled");
    add(`${h}.attn.c_proj.bias`, [d], "zeros");
    add(`${h}.ln_2.weight`, [d], "ones");
    add(`${h}.ln_2.bias`, [d], "zeros");
    add(`${h}.mlp.c_fc.weight`, [d, f], "normal");
    add(`${h}.mlp.c_fc.bias`, [f], "zeros");
    add(`${h}.mlp.c_proj.weight`, [f, d], "normal_scaled");
    add(`${h}.mlp.c_proj.bias`, [d], "zeros");
  }
  add("ln_f.weight", [d], "ones");
  add("ln_f.bias", [d], "zeros");
  return specs;
}

/** A full parameter set: one f32 array per HF name. */
export interface ParamSet {
  config: Gpt2Config;
  values: Map<string, Float32Array>;
}

/**
 * GPT-2 initialisation (HF `_init_weights`): weights and embeddings ~ N(0, initializer_range²),
 * residual projections (c_proj) with std / sqrt(2·n_layer), biases 0, LayerNorm weights 1.
 */
export function initParams(config: Gpt2Config, seed: number): ParamSet {
  const normal = seededNormal(seed);
  const std = config.initializer_range;
  const scaled = std / Math.sqrt(2 * config.n_layer);
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config)) {
    const data = new Float32Array(spec.size);
    if (spec.init === "ones") data.fill(1);
    else if (spec.init === "normal" || spec.init === "normal_scaled") {
      const s = spec.init === "normal" ? std : scaled;
      for (let i = 0; i < data.length; i++) data[i] = s * normal();
    }
    values.set(spec.name, data);
  }
  return { config, values };
}

export class ParamLoadError extends DomainError {
  override name = "ParamLoadError";
  declare readonly details: { tensor?: string; problem: string; index?: number };
  constructor(message: string, details: { tensor?: string; problem: string; index?: number }) {
    super("invalid", "invalid_model_weights", message, details);
  }
}

// Non-parameter buffers some exports include (the causal mask); not weights.
const IGNORED = /(^|\.)attn\.(bias|masked_bias)$/;

/**
 * Parameters from safetensors bytes: names with or without the `transformer.` prefix; F32, F16,
 * BF16 (or F64) converted to f32; the attention mask buffers and an explicit `lm_head.weight`
 * (tied, so it must equal wte) are skipped. Any missing tensor or shape mismatch is an error
 * naming the tensor and both shapes.
 */
export function loadParams(bytes: Uint8Array, config: Gpt2Config): ParamSet {
  const { tensors } = decodeSafetensors(bytes);
  const byName = new Map<string, TensorEntry>();
  let lmHead: TensorEntry | undefined;
  for (const [raw, entry] of tensors) {
    if (raw === "lm_head.weight") {
      lmHead = entry;
      continue;
    }
    if (IGNORED.test(raw)) continue;
    const name = raw.startsWith("transformer.") ? raw.slice("transformer.".length) : raw;
    if (byName.has(name)) {
      throw new ParamLoadError(`tensor ${name} appears twice (with and without a prefix)`, {
        tensor: name,
        problem: "duplicate",
      });
    }
    byName.set(name, entry);
  }
  const values = new Map<string, Float32Array>();
  const specs = paramSpecs(config);
  for (const spec of specs) {
    const entry = byName.get(spec.name);
    if (!entry) {
      throw new ParamLoadError(`missing tensor ${spec.name} (expected shape [${spec.shape}])`, {
        tensor: spec.name,
        problem: "missing",
      });
    }
    if (
      entry.shape.length !== spec.shape.length || entry.shape.some((d, i) => d !== spec.shape[i])
    ) {
      throw new ParamLoadError(
        `tensor ${spec.name} has shape [${entry.shape}], expected [${spec.shape}]`,
        { tensor: spec.name, problem: "shape" },
      );
    }
    try {
      values.set(spec.name, toFloat32(entry));
    } catch (e) {
      throw new ParamLoadError(`tensor ${spec.name}: ${(e as Error).message}`, {
        tensor: spec.name,
        problem: "dtype",
      });
    }
    const bad = values.get(spec.name)!.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      // A NaN or Inf weight makes every loss NaN: refuse the file, naming where it is.
      throw new ParamLoadError(
        `tensor ${spec.name} holds a non-finite value at flat index ${bad}`,
        { tensor: spec.name, problem: "non_finite", index: bad },
      );
    }
    byName.delete(spec.name);
  }
  if (lmHead) {
    // Exports of a tied model repeat wte as lm_head; an untied head cannot be represented.
    const head = toFloat32(lmHead);
    const wte = values.get("wte.weight")!;
    if (head.length !== wte.length || head.some((v, i) => v !== wte[i])) {
      throw new ParamLoadError(
        "lm_head.weight differs from wte.weight: only tied heads are supported",
        {
          tensor: "lm_head.weight",
          problem: "untied",
        },
      );
    }
  }
  const extra = [...byName.keys()];
  if (extra.length > 0) {
    throw new ParamLoadError(
      `unexpected tensors for this config: ${extra.slice(0, 5).join(", ")}${
        extra.length > 5 ? ` (+${extra.length - 5} more)` : ""
      }`,
      { tensor: extra[0], problem: "unexpected" },
    );
  }
  return { config, values };
}

/** HF-named F32 safetensors (no prefix, no lm_head: tied) with the config in the metadata. */
export function saveParams(params: ParamSet): Uint8Array {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const spec of paramSpecs(params.config)) {
    const data = params.values.get(spec.name);
    if (!data || data.length !== spec.size) {
      throw new RangeError(`parameter ${spec.name} is missing or has the wrong size`);
    }
    tensors[spec.name] = { shape: spec.shape, data };
  }
  return encodeSafetensors(tensors, {
    format: "pt",
    config: JSON.stringify(toHfConfig(params.config)),
  });
}

/** The config saved in our own files' metadata, if present. */
export function configFromMetadata(bytes: Uint8Array): Gpt2Config | null {
  const { metadata } = decodeSafetensors(bytes);
  if (!metadata.config) return null;
  let config: unknown;
  try {
    config = JSON.parse(metadata.config);
  } catch (e) {
    throw new ConfigError(
      `the safetensors metadata "config" is not JSON: ${(e as Error).message}`,
      [{ path: "", message: "not valid JSON" }],
      "__metadata__.config",
    );
  }
  return parseGpt2Config(config, "__metadata__.config");
}
