// TracIn-CP as a service (POST /v1/influence/tracin): checks the run, its checkpoints, model,
// queries and training examples in full before anything is stored, then a job computes the
// scores over the run's checkpoints (engine.ts) and stores them as an influence score set
// (src/influence/store.ts, kind "scores", method "tracin"), so that the score-set readers
// (GET /v1/influence/scores/:id, /matrix, /top, /modules) serve it like any other.
//
// With `projection`, the gradients are projected first (src/projection/), per checkpoint.
//
// η_c, the weight of checkpoint c, is the learning rate of the step the checkpoint was taken
// after (the run's recorded step `lr`; the weights after step c were produced with it).
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { type GpuHandle, requireRuntime } from "../gpu/handle.ts";
import type { JobHandler } from "../jobs/manager.ts";
import type { Store } from "../store/store.ts";
import { loadParams } from "../gpt2/params.ts";
import type { InfluenceDeps } from "../influence/factors/service.ts";
import { encodeSequences, measuredQueries, selectionExamples } from "../influence/inputs.ts";
import { rate, storeInfluenceResult, submitInfluenceJob } from "../influence/jobs.ts";
import { scoreTensors } from "../influence/scores/result_file.ts";
import type { ScoresRecord, ScoresSpec, ScoresSummary } from "../influence/scores/service.ts";
import { INFLUENCE } from "../influence/store.ts";
import { loadModel } from "../models/load.ts";
import { checkDim } from "../projection/math.ts";
import { RUNS } from "../runs/run_store.ts";
import { computeTracin, type TracinCheckpoint, trainingPasses } from "./engine.ts";
import type { TracinRequest } from "./schemas.ts";

const GPU_NEED = { what: "TracIn needs a GPU", noDevice: "no GPU device is available" };

/** What a TracIn job stores: the score set it fills, and the request to plan it again. */
export interface TracinJobInput {
  scores: string;
  run: string;
  method: "tracin";
  request: TracinRequest;
}

export async function startTracin(
  deps: InfluenceDeps,
  request: TracinRequest,
): Promise<{ scores: ScoresRecord; job: string }> {
  requireRuntime(deps.gpu, GPU_NEED);
  const { provenance, spec } = await planTracin(deps.store, request);
  const influence = deps.store.get(INFLUENCE);
  const record = influence.create<ScoresSpec>("scores", {
    model: provenance.model!,
    parent: null,
    spec,
  });
  const input: TracinJobInput = { scores: record.id, run: request.run, method: "tracin", request };
  const job = submitInfluenceJob({ jobs: deps.jobs, influence }, "scores", record.id, input);
  return { scores: influence.get<ScoresSpec, ScoresSummary>("scores", record.id)!, job: job.id };
}

/** The one planning of a request, at the request and again in its job (on whichever node). */
async function planTracin(store: Store, request: TracinRequest) {
  const runs = store.get(RUNS);
  const runRecord = runs.get(request.run);
  if (!runRecord) throw new NotFoundError(`run ${request.run}`, { field: "run", id: request.run });
  const stored = runs.checkpoints(request.run);
  if (stored.length === 0) {
    throw new ConflictError(
      `run ${request.run} has no checkpoints: TracIn needs the weights along the run; record ` +
        "the run with `checkpointEvery` in POST /v1/training-runs",
      { field: "run", id: request.run },
      "run_without_checkpoints",
    );
  }
  const provenance = runs.provenance(request.run)!;
  const { run } = await runs.load(request.run);
  const checkpoints = stored.map(({ step, tensor }) => {
    const lr = run.steps[step - 1]?.lr;
    if (lr === undefined || !Number.isFinite(lr)) {
      throw new ConflictError(
        `run ${request.run} records no learning rate for step ${step}, where a checkpoint was ` +
          "taken: TracIn weighs each checkpoint by it",
        { field: "run", id: request.run, step },
        "run_without_learning_rate",
      );
    }
    return { step, lr, tensor };
  });

  let trainSelection: { dataset: string; ids?: readonly string[] };
  if (request.train) trainSelection = request.train;
  else if (provenance.dataset !== null) {
    const ids = new Set<string>();
    for (const step of run.steps) for (const id of step.batch) ids.add(id);
    trainSelection = { dataset: provenance.dataset, ids: [...ids].sort() };
  } else {
    throw new InvalidInputError(
      `run ${request.run} does not record the dataset it was trained on: give \`train\``,
      { field: "train" },
      "train_required",
    );
  }
  if (provenance.model === null) {
    throw new ConflictError(
      `run ${request.run} does not record the model it was trained from, so its checkpoints ` +
        "have no tokenizer or architecture to read them with",
      { field: "run", id: request.run },
      "run_without_model",
    );
  }
  const loaded = await loadModel(store, provenance.model).catch((e) => {
    if (e instanceof NotFoundError) {
      throw new ConflictError(
        `model ${provenance.model}, which run ${request.run} was trained from, no longer ` +
          "exists: its tokenizer and architecture are needed to read the checkpoints",
        { field: "run", id: request.run, model: provenance.model },
        "run_model_deleted",
      );
    }
    throw e;
  });
  const { config, tokenizer } = loaded;
  const projection = request.projection ?? null;
  if (projection) checkDim(config, projection, request.parameters);

  const trainExamples = await selectionExamples(store, trainSelection, "train");
  const train = encodeSequences(tokenizer, trainExamples, config.n_positions, "train");
  const { queries, source: querySource } = await measuredQueries(
    store,
    request.queries,
    tokenizer,
    config.n_positions,
  );

  const spec: ScoresSpec = {
    factors: null,
    method: "tracin",
    tracin: {
      run: request.run,
      parameters: request.parameters,
      checkpoints: checkpoints.map(({ step, lr }) => ({ step, lr })),
      projection,
    },
    mode: "pairwise",
    damping: null,
    queryRank: null,
    filter: null,
    perModule: true,
    perToken: false,
    batchSize: request.batchSize,
    queries: querySource,
    train: { dataset: trainSelection.dataset, ids: trainExamples.map((e) => e.id) },
  };
  return { provenance, checkpoints, config, projection, train, queries, spec };
}

/** Builds an influence-scores job of method TracIn from its stored input (GPU). */
export async function tracinJob(
  store: Store,
  gpu: GpuHandle,
  input: TracinJobInput,
  id: string,
): Promise<JobHandler> {
  const runtime = requireRuntime(gpu, GPU_NEED);
  const request = input.request;
  const { checkpoints, config, projection, train, queries } = await planTracin(store, request);
  return async (ctx) => {
    const started = performance.now();
    // Per checkpoint: the queries once, the training examples once per query group.
    const trainTokens = train.reduce((n, s) => n + s.tokens.length, 0);
    const queryTokens = queries.reduce((n, s) => n + s.tokens.length, 0);
    const passes = projection ? 1 : trainingPasses(config, request.parameters, queries.length);
    const totalTokens = (queryTokens + passes * trainTokens) * checkpoints.length;
    const engineCheckpoints: TracinCheckpoint[] = checkpoints.map(({ step, lr, tensor }) => ({
      step,
      lr,
      params: async () => loadParams(await store.tensors.bytes(tensor), config),
    }));
    const result = await computeTracin({
      runtime,
      checkpoints: engineCheckpoints,
      parameters: request.parameters,
      train,
      queries,
      batchSize: request.batchSize,
      projection,
      signal: ctx.signal,
      onProgress: (p) => {
        const { perSecond, etaSeconds } = rate(started, p.tokens, totalTokens);
        ctx.progress({
          phase: `checkpoint ${p.checkpoint + 1}/${p.checkpoints}: ${p.phase}`,
          step: p.done,
          total: p.total,
          fraction: Math.min(p.tokens / Math.max(totalTokens, 1), 0.99),
          throughput: perSecond,
          throughputUnit: "tokens",
          etaSeconds,
          message: `checkpoint ${p.checkpoint + 1}/${p.checkpoints} (step ` +
            `${checkpoints[p.checkpoint].step}), ${p.phase}: ${p.done}/${p.total}`,
        });
      },
    });
    ctx.signal.throwIfAborted();
    const tensors = scoreTensors({
      result,
      scoredTrain: train.map((_, i) => i),
      trainCount: train.length,
      candidates: null,
      trainLengths: train.map((s) => s.tokens.length),
      keepModules: true,
    });
    const summary: ScoresSummary = {
      modules: result.modules,
      damping: result.damping,
      ranks: result.ranks,
      scoredPairs: queries.length * train.length,
      seconds: (performance.now() - started) / 1000,
    };
    await storeInfluenceResult(store, "scores", id, {
      tensors,
      metadata: { kind: "influence-scores" },
      summary,
    });
    return { scores: id, seconds: summary.seconds };
  };
}
