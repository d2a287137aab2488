// The weights a request names: a stored model (`model`), or a recorded run's checkpoint (`run` +
// `step`). One resolution for every capability that takes either (gradients, influence factors
// and scores): a checkpoint is read with the config in its metadata and the tokenizer of the model
// the run was recorded from (byte-level when that model is gone). Records keep the weights' key: a
// model id, or "run:<run id>@<step>".
import { InvalidInputError, NotFoundError } from "../errors.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { configFromMetadata, loadParams, type ParamSet } from "../gpt2/params.ts";
import { RUNS } from "../runs/run_store.ts";
import { checkpointBytes } from "../runs/service.ts";
import type { Store } from "../store/store.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { loadModel } from "./load.ts";
import { modelTokenizer } from "./model_tokenizer.ts";

/** Where weights came from, as records keep it. */
export type WeightsSource = { model: string } | { run: string; step: number; tokenizer: string };

/** What a request names: `model`, or `run` with `step`. */
export interface WeightsRequest {
  model?: string;
  run?: string;
  step?: number;
}

export interface Weights {
  /** A model id, or "run:<run id>@<step>". */
  key: string;
  source: WeightsSource;
  config: Gpt2Config;
  params: ParamSet;
  tokenizer: TextTokenizer;
  /**
   * Never trained: a randomly initialised model (POST /v1/models with a config), or the step-0
   * checkpoint of a run recorded from one. Attribution on such weights is rarely meaningful.
   */
  untrained: boolean;
}

/** The key records keep for a run's checkpoint. */
export function checkpointKey(run: string, step: number): string {
  return `run:${run}@${step}`;
}

/** A key back as a request: "run:<id>@<step>" or a model id. */
export function requestOfKey(key: string): WeightsRequest {
  const match = /^run:(.+)@(\d+)$/.exec(key);
  return match ? { run: match[1], step: Number(match[2]) } : { model: key };
}

/**
 * The weights `request` names; 400 naming the field when it names neither or both, or `run`
 * without `step`; 404 naming `model`, `run` or `step` when there is no such model, run or
 * checkpoint.
 */
export async function resolveWeights(store: Store, request: WeightsRequest): Promise<Weights> {
  const hasRun = request.run !== undefined || request.step !== undefined;
  if ((request.model === undefined) === !hasRun) {
    throw new InvalidInputError(
      'give either "model" or "run" with "step"',
      { field: request.model === undefined ? "model" : "run" },
    );
  }
  if (request.model !== undefined) {
    const loaded = await loadModel(store, request.model);
    return {
      key: request.model,
      source: { model: request.model },
      config: loaded.config,
      params: loaded.params,
      tokenizer: loaded.tokenizer,
      untrained: loaded.record.source === "init",
    };
  }
  if (request.run === undefined || request.step === undefined) {
    const field = request.run === undefined ? "run" : "step";
    throw new InvalidInputError(`"run" and "step" go together: \`${field}\` is missing`, {
      field,
    });
  }
  if (!store.get(RUNS).get(request.run)) {
    throw new NotFoundError(`run ${request.run}`, { field: "run", id: request.run });
  }
  const bytes = await checkpointBytes(store, request.run, request.step);
  const recordedFrom = store.get(RUNS).provenance(request.run)?.model ?? null;
  const base = recordedFrom === null ? null : await loadModel(store, recordedFrom).catch((e) => {
    if (e instanceof NotFoundError) return null;
    throw e;
  });
  const config = configFromMetadata(bytes) ?? base?.config;
  if (!config) {
    throw new InvalidInputError(
      `checkpoint ${request.step} of run ${request.run} has no config and its model is gone`,
      { field: "run" },
    );
  }
  const tokenizer = base && base.config.vocab_size === config.vocab_size
    ? { tokenizer: base.tokenizer, name: `model ${base.record.id}` }
    : { tokenizer: modelTokenizer(config, null).tokenizer, name: "byte" };
  return {
    key: checkpointKey(request.run, request.step),
    source: { run: request.run, step: request.step, tokenizer: tokenizer.name },
    config,
    params: loadParams(bytes, config),
    tokenizer: tokenizer.tokenizer,
    untrained: request.step === 0 && base?.record.source === "init",
  };
}
