// What the model routes ask of models beyond creating them (create.ts): their weights as a file,
// deleting, and per-example losses on the GPU. Failures are DomainErrors (src/errors.ts).
import { loadDatasetExamples } from "../datasets/load.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { saveParams } from "../gpt2/params.ts";
import { type GpuHandle, requireRuntime } from "../gpu/handle.ts";
import type { Store } from "../store/store.ts";
import { type ExampleLoss, type ScoredExample, scoreTokens, tokenizeForScoring } from "./losses.ts";
import { loadModel } from "./load.ts";
import { MODELS } from "./model_store.ts";

/** Examples per losses request: each costs GPU time on the request path. */
export const MAX_SCORED_EXAMPLES = 4096;

/** The model's weights as safetensors (HF GPT-2 names, config in the metadata). */
export async function modelWeights(store: Store, id: string): Promise<Uint8Array> {
  const { params } = await loadModel(store, id);
  return saveParams(params);
}

/** Deletes a model and its weights; NotFoundError when there is none. */
export async function deleteModel(store: Store, id: string): Promise<void> {
  if (!(await store.get(MODELS).delete(id))) {
    throw new NotFoundError(`model ${id}`, { field: "id", id });
  }
}

/** Examples inline, or a dataset's (all, or those in `ids`). */
export interface LossesRequest {
  examples?: ScoredExample[];
  dataset?: string;
  ids?: string[];
}

/**
 * Per-example losses, in request (or `ids`, or dataset) order. Every request problem (unknown
 * model, dataset or ids, too many examples, an example that does not fit) is reported before
 * the GPU is asked for.
 */
export async function scoreLosses(
  deps: { store: Store; gpu: GpuHandle },
  id: string,
  request: LossesRequest,
): Promise<{ model: string; losses: ExampleLoss[] }> {
  const model = await loadModel(deps.store, id);
  let examples: ScoredExample[];
  if (request.examples) examples = request.examples;
  else {
    examples = await loadDatasetExamples(deps.store, request.dataset!, request.ids);
    if (examples.length > MAX_SCORED_EXAMPLES) {
      throw new InvalidInputError(
        `dataset ${request.dataset} has ${examples.length} examples; score at most ` +
          `${MAX_SCORED_EXAMPLES} per request by listing "ids"`,
        { field: "ids", examples: examples.length, max: MAX_SCORED_EXAMPLES },
      );
    }
  }
  const encoded = tokenizeForScoring(model.tokenizer, examples, model.config.n_positions);
  const runtime = requireRuntime(deps.gpu, {
    what: "losses need the GPU",
    noDevice: "no device",
    reasonInDetails: true,
  });
  const scores = await scoreTokens(runtime, model.params, encoded);
  const losses = scores.map((s, index) => ({ index, id: examples[index].id ?? null, ...s }));
  return { model: id, losses };
}
