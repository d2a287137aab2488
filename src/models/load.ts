// Reading a stored model back: config, parameters and tokenizer, for scoring and training.
import { NotFoundError } from "../errors.ts";
import { type Gpt2Config, parseGpt2Config } from "../gpt2/config.ts";
import { type ParamSet, paramSpecs } from "../gpt2/params.ts";
import { toFloat32 } from "../store/safetensors.ts";
import { DataCorruptError, type Store } from "../store/store.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import type { ModelRecord } from "./model_store.ts";
import { modelTokenizer } from "./model_tokenizer.ts";
import { MODELS } from "./model_store.ts";

export interface LoadedModel {
  record: ModelRecord;
  config: Gpt2Config;
  params: ParamSet;
  tokenizer: TextTokenizer;
}

// Parsing a large tokenizer.json (GPT-2's is ~1.4 MB) costs more than a request should pay each
// time; a few recently used ones are kept.
const TOKENIZER_CACHE_SIZE = 4;
const tokenizerCache = new Map<string, TextTokenizer>();

function cachedTokenizer(id: string, config: Gpt2Config, json: string | null): TextTokenizer {
  if (json === null) return modelTokenizer(config, null).tokenizer;
  const hit = tokenizerCache.get(id);
  if (hit) {
    tokenizerCache.delete(id);
    tokenizerCache.set(id, hit);
    return hit;
  }
  const { tokenizer } = modelTokenizer(config, json);
  tokenizerCache.set(id, tokenizer);
  if (tokenizerCache.size > TOKENIZER_CACHE_SIZE) {
    tokenizerCache.delete(tokenizerCache.keys().next().value!);
  }
  return tokenizer;
}

/** 404 when the model is unknown. */
export function modelRecord(store: Store, id: string): ModelRecord {
  const record = store.get(MODELS).get(id);
  if (!record) throw new NotFoundError(`model ${id}`, { field: "model", id });
  return record;
}

/** The model's config, f32 parameters and tokenizer; 404 when unknown. */
export async function loadModel(store: Store, id: string): Promise<LoadedModel> {
  const row = store.get(MODELS).row(id);
  if (!row) throw new NotFoundError(`model ${id}`, { field: "model", id });
  const config = parseGpt2Config(row.record.config);
  const file = await store.tensors.get(row.record.paramsTensor);
  // Stored by saveParams, so every tensor is there under its HF name; anything else is damage.
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config)) {
    const entry = file.tensors.get(spec.name);
    if (!entry || entry.shape.join(",") !== spec.shape.join(",")) {
      throw new DataCorruptError(
        `model ${id}: stored tensor ${spec.name} is missing or misshapen`,
        {
          id,
          tensor: spec.name,
        },
      );
    }
    values.set(spec.name, toFloat32(entry));
  }
  const params: ParamSet = { config, values };
  return {
    record: row.record,
    config,
    params,
    tokenizer: cachedTokenizer(id, config, row.tokenizerJson),
  };
}
