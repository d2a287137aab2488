// Creating models: GPT-2 random initialisation from a config, or an uploaded checkpoint
// (model.safetensors + config.json, optional tokenizer.json). Everything is validated before
// anything is stored; malformed input surfaces as 400s naming the field or tensor.
import { InvalidInputError } from "../errors.ts";
import { checkIdentifier } from "../identifiers.ts";
import { type Gpt2Config, parseGpt2Config } from "../gpt2/config.ts";
import { configFromMetadata, initParams, loadParams } from "../gpt2/params.ts";
import type { Store } from "../store/store.ts";
import type { ModelRecord } from "./model_store.ts";
import { modelTokenizer } from "./model_tokenizer.ts";
import { MODELS } from "./model_store.ts";

export interface CreateFromConfig {
  config: unknown;
  seed: number;
  name?: string | null;
  /** tokenizer.json (text or parsed); byte-level when absent. */
  tokenizer?: string | object | null;
}

export function createModel(store: Store, input: CreateFromConfig): Promise<ModelRecord> {
  if (input.name != null) checkIdentifier(input.name, "name");
  const config = parseGpt2Config(input.config);
  const tokenizer = modelTokenizer(config, input.tokenizer ?? null);
  return store.get(MODELS).create({
    name: input.name ?? null,
    params: initParams(config, input.seed),
    tokenizer: { kind: tokenizer.kind, json: tokenizer.json },
    source: "init",
    seed: input.seed,
  });
}

export interface CheckpointUpload {
  weights: Uint8Array;
  /** config.json text; when absent, the config our own files carry in their metadata. */
  configJson?: string | null;
  tokenizerJson?: string | null;
  name?: string | null;
}

function checkpointConfig(upload: CheckpointUpload): Gpt2Config {
  if (upload.configJson == null) {
    const config = configFromMetadata(upload.weights);
    if (!config) {
      throw new InvalidInputError(
        "config.json is required (the safetensors metadata holds no config)",
        { field: "config.json" },
      );
    }
    return config;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(upload.configJson);
  } catch (e) {
    throw new InvalidInputError(`config.json is not valid JSON: ${(e as Error).message}`, {
      field: "config.json",
    }, "invalid_model_config");
  }
  return parseGpt2Config(parsed, "config.json");
}

export function importCheckpoint(store: Store, upload: CheckpointUpload): Promise<ModelRecord> {
  if (upload.name != null) checkIdentifier(upload.name, "name");
  const config = checkpointConfig(upload);
  const tokenizer = modelTokenizer(config, upload.tokenizerJson ?? null);
  const params = loadParams(upload.weights, config);
  return store.get(MODELS).create({
    name: upload.name ?? null,
    params,
    tokenizer: { kind: tokenizer.kind, json: tokenizer.json },
    source: "upload",
    seed: null,
  });
}
