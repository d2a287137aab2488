// A recorded run as a replayable problem (engine.ts): its model's initial weights, its batches
// with their data weights in the recorder's shapes, its optimiser, and the recorded test losses
// the replay must reproduce. Every reason a run cannot be replayed is a 409 that says why.
import { loadDatasetExamples } from "../datasets/load.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import type { ParamSet } from "../gpt2/params.ts";
import { loadModel } from "../models/load.ts";
import { MODELS } from "../models/model_store.ts";
import { RUNS } from "../runs/run_store.ts";
import type { StoredRun } from "../runs/run_store.ts";
import type { Store } from "../store/store.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { buildBatch, type EncodedExample, encodeExamples } from "../training/encode.ts";
import type { TrainingRecipe } from "../training/recipe.ts";
import type { ReplayProbe, ReplayStep } from "./engine.ts";

export interface ReplayableRun {
  stored: StoredRun;
  recipe: TrainingRecipe;
  model: string;
  dataset: string;
  config: Gpt2Config;
  tokenizer: TextTokenizer;
  initial: ParamSet;
  steps: ReplayStep[];
  probe: ReplayProbe;
  /** Each training example's token count (the score file's train_lengths). */
  tokens: ReadonlyMap<string, number>;
}

function notReplayable(
  run: string,
  message: string,
  code: string,
  field = "run",
  extra = {},
): ConflictError {
  return new ConflictError(`run ${run} ${message}`, { field, id: run, ...extra }, code);
}

/** Where a replayable run came from: its recipe, model and dataset. */
export interface ReplaySource {
  recipe: TrainingRecipe;
  model: string;
  dataset: string;
}

/**
 * The recipe, model and dataset of a run that can be replayed: 404 naming `field` for an unknown
 * run, 409 run_not_replayable for an uploaded one or one recorded before data weights existed.
 */
export function replaySource(store: Store, runId: string, field = "run"): ReplaySource {
  const runs = store.get(RUNS);
  if (!runs.get(runId)) throw new NotFoundError(`run ${runId}`, { field, id: runId });
  const provenance = runs.provenance(runId)!;
  const recipe = provenance.training ?? null;
  if (!recipe || provenance.model === null || provenance.dataset === null) {
    throw notReplayable(
      runId,
      "cannot be replayed: it was uploaded, or recorded before data weights existed, so its " +
        "optimiser and batch shapes are not stored; record it again with POST /v1/training-runs",
      "run_not_replayable",
      field,
    );
  }
  return { recipe, model: provenance.model, dataset: provenance.dataset };
}

/** 409 run_model_deleted when the model a replayable run was trained from is gone. */
export function requireReplayModel(
  store: Store,
  runId: string,
  source: ReplaySource,
  field = "run",
): void {
  if (store.get(MODELS).get(source.model)) return;
  throw notReplayable(
    runId,
    `cannot be replayed: model ${source.model}, which it was trained from, was deleted`,
    "run_model_deleted",
    field,
    { model: source.model },
  );
}

/** Loads everything a replay of `runId` needs; 404 for an unknown run, 409 when it cannot be replayed. */
export async function loadReplayableRun(store: Store, runId: string): Promise<ReplayableRun> {
  const runs = store.get(RUNS);
  const provenance = replaySource(store, runId);
  const recipe = provenance.recipe;
  if (recipe.optimizer.kind !== "adamw") {
    throw notReplayable(
      runId,
      `was trained with ${recipe.optimizer.kind}; metagradients reverse AdamW runs only`,
      "optimizer_not_supported",
    );
  }
  requireReplayModel(store, runId, provenance);
  const model = await loadModel(store, provenance.model);
  const examples = await loadDatasetExamples(store, provenance.dataset).catch((e) => {
    if (e instanceof NotFoundError) {
      throw notReplayable(
        runId,
        `cannot be replayed: dataset ${provenance.dataset}, which it was trained on, was deleted`,
        "run_dataset_deleted",
        "run",
        { dataset: provenance.dataset },
      );
    }
    throw e;
  });
  const stored = await runs.load(runId);
  const byId = new Map(examples.map((e) => [e.id, e]));
  const needed = new Set<string>();
  for (const step of stored.run.steps) for (const id of step.batch) needed.add(id);
  for (const id of stored.run.testExamples) needed.add(id);
  const missing = [...needed].filter((id) => !byId.has(id));
  if (missing.length > 0) {
    throw notReplayable(
      runId,
      `cannot be replayed: dataset ${provenance.dataset} no longer has examples it used`,
      "run_dataset_changed",
      "run",
      { missing: missing.slice(0, 20) },
    );
  }
  const encoded = new Map<string, EncodedExample>(
    encodeExamples([...needed].map((id) => byId.get(id)!), model.tokenizer, model.config).map(
      (e) => [e.id, e],
    ),
  );
  const layout = { contextLength: recipe.contextLength, rows: recipe.rows };
  const steps: ReplayStep[] = stored.run.steps.map((step) => {
    const batch = buildBatch(step.batch.map((id) => encoded.get(id)!), layout);
    const rowIds = Array.from({ length: batch.B }, (_, b) => step.batch[b] ?? null);
    if (step.weights) {
      batch.dataWeights = Array.from({ length: batch.B }, (_, b) => step.weights![b] ?? 1);
    }
    return { batch, rowIds };
  });
  const tests = stored.run.testExamples.map((id) => encoded.get(id)!);
  const batches = [];
  for (let start = 0; start < tests.length; start += recipe.evalRows) {
    const part = tests.slice(start, start + recipe.evalRows);
    batches.push(buildBatch(part, { contextLength: recipe.contextLength, rows: recipe.evalRows }));
  }
  const m = tests.length;
  const probe: ReplayProbe = {
    batches,
    expected: (step) => stored.run.losses.slice(step * m, (step + 1) * m),
  };
  return {
    stored,
    recipe,
    model: provenance.model,
    dataset: provenance.dataset,
    config: model.config,
    tokenizer: model.tokenizer,
    initial: model.params,
    steps,
    probe,
    tokens: new Map([...encoded].map(([id, e]) => [id, e.tokens.length])),
  };
}
