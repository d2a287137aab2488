// Recording training runs (POST /v1/training-runs): the request, its checks against the model,
// the dataset and the study, the example selection, and the job that fine-tunes K runs. Failures
// are DomainErrors (src/errors.ts), which the HTTP layer maps.
import { z } from "@hono/zod-openapi";
import { identifier } from "../http/schemas.ts";
import type { DatasetExample } from "../datasets/example.ts";
import { loadDatasetExamples } from "../datasets/load.ts";
import { ConflictError, InvalidInputError } from "../errors.ts";
import { type GpuHandle, requireRuntime } from "../gpu/handle.ts";
import type { JobKind, JobManager } from "../jobs/manager.ts";
import { loadModel } from "../models/load.ts";
import { seededUniform, shuffled } from "../random.ts";
import { distinctIds, listSome } from "../runs/run_input.ts";
import { replaySource, requireReplayModel } from "../metagradients/replay.ts";
import { RUNS } from "../runs/run_store.ts";
import type { JobRecord, Store } from "../store/store.ts";
import { planRecording, type RecordRunsOptions } from "./recorder.ts";
import { keptRecording, trainingJob, type TrainingJobInput } from "./training_job.ts";

const ExampleSelection = z.union([
  z.array(z.string().min(1).max(256)).min(1).max(100_000),
  z.number().int().min(1).max(100_000),
]);

/** Replays a base run's batches with a seeded fraction of its training ids weighted 0. */
const MaskCurriculum = z.object({
  kind: z.literal("mask"),
  baseRun: z.string().min(1).max(256).openapi({
    description:
      "A run recorded here (its model, dataset, batches, optimiser and shapes are reused)",
  }),
  dropFraction: z.number().gt(0).lt(1).openapi({
    description: "Fraction of the base run's distinct training ids each run weighs 0 (seeded)",
  }),
}).strict().openapi("MaskCurriculum");

const FROM_BASE = " (required, except with curriculum mask, which takes it from the base run)";

export const TrainingRunsSchema = z.object({
  study: identifier(256),
  model: z.string().min(1).max(200).optional().openapi({
    description: `Model id or name${FROM_BASE}`,
  }),
  dataset: z.string().min(1).max(200).optional().openapi({
    description: `Dataset id or name${FROM_BASE}`,
  }),
  trainExamples: ExampleSelection.optional().openapi({
    description: `Training ids, or a count drawn (seeded) from the dataset${FROM_BASE}`,
  }),
  testExamples: ExampleSelection.optional().openapi({
    description: "Test ids, or a count drawn (seeded) from the examples not used for training" +
      FROM_BASE,
  }),
  runs: z.number().int().min(1).max(1000),
  steps: z.number().int().min(1).max(1_000_000).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  batchSize: z.number().int().min(1).max(4096).optional().openapi({
    description: `Examples per step${FROM_BASE}`,
  }),
  // Closed like every body: a misspelt hyperparameter is a 400 naming it. The recorder checks
  // each value against the kind's own schema (src/gpt2/optimizer.ts).
  optimizer: z.object({
    kind: z.enum(["adamw", "sgd"]),
    lr: z.number().positive(),
    beta1: z.number().optional(),
    beta2: z.number().optional(),
    eps: z.number().optional(),
    epsRoot: z.number().min(0).optional(),
    momentum: z.number().optional(),
    weightDecay: z.number().min(0).max(1e6).optional(),
    maxGradNorm: z.number().min(0).optional(),
    schedule: z.object({
      warmupSteps: z.number().int().min(0).optional(),
      totalSteps: z.number().int().min(1).optional(),
      decay: z.enum(["constant", "linear", "cosine"]).optional(),
      minLrRatio: z.number().min(0).max(1).optional(),
    }).strict().optional(),
  }).strict().optional().openapi({
    description:
      "AdamW (beta1, beta2, eps, epsRoot, weightDecay) or SGD (momentum, weightDecay); " +
      "epsRoot (default 0) is added under AdamW's square root, √(v̂ + epsRoot) + eps, which " +
      "smooths metagradients; " +
      "`schedule` = {warmupSteps, decay: constant|linear|cosine, minLrRatio, totalSteps?} " +
      "(decay spans the run when totalSteps is omitted); global-norm clipping by `maxGradNorm`" +
      FROM_BASE,
  }),
  curriculum: z.union([
    z.enum(["shuffle", "subsample"]),
    z.object({ batches: z.array(z.array(z.string().min(1).max(256)).min(1)).min(1) }).strict(),
    MaskCurriculum,
  ]).default("shuffle"),
  subsampleFraction: z.number().gt(0).max(1).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  checkpointEvery: z.number().int().min(1).optional(),
  namePrefix: identifier(200).optional().openapi({
    description: "Runs are stored as <namePrefix>-<k>; default training-<job id prefix>",
  }),
}).strict().openapi("TrainingRunsRequest");

export type TrainingRunsRequest = z.infer<typeof TrainingRunsSchema>;
type MaskRequest = z.infer<typeof MaskCurriculum>;

/** A request with everything a recording needs given (a mask request expanded from its base). */
type FullRequest = TrainingRunsRequest & {
  model: string;
  dataset: string;
  trainExamples: string[] | number;
  testExamples: string[] | number;
  batchSize: number;
  optimizer: NonNullable<TrainingRunsRequest["optimizer"]>;
  curriculum: Exclude<TrainingRunsRequest["curriculum"], MaskRequest>;
};

const isMask = (c: TrainingRunsRequest["curriculum"]): c is MaskRequest =>
  typeof c === "object" && "kind" in c;

/** The fields a mask request takes from its base run, and every other request must give. */
const FROM_BASE_RUN = [
  "model",
  "dataset",
  "trainExamples",
  "testExamples",
  "batchSize",
  "optimizer",
] as const;

/** The request's own fields, each required unless the curriculum is a mask. */
function requireFull(request: TrainingRunsRequest): FullRequest {
  for (const field of FROM_BASE_RUN) {
    if (request[field] === undefined) {
      throw new InvalidInputError(`\`${field}\` is required`, { field });
    }
  }
  return request as FullRequest;
}

/** What a mask request adds to the recording: the base run's shapes and each run's weights. */
interface MaskPlan {
  full: FullRequest;
  dataWeights: (run: number) => ReadonlyMap<string, number>;
  contextLength: number;
  evalBatchSize: number;
  mask: { baseRun: string; dropFraction: number };
}

/** A mask request as the base run's own request, plus the ids each run drops. */
async function expandMask(
  store: Store,
  request: TrainingRunsRequest,
  mask: MaskRequest,
): Promise<MaskPlan> {
  const field = "curriculum.baseRun";
  for (const own of [...FROM_BASE_RUN, "steps", "epochs", "subsampleFraction"] as const) {
    if (request[own] !== undefined) {
      throw new InvalidInputError(
        `\`${own}\` comes from the base run with curriculum mask: leave it out`,
        { field: own },
      );
    }
  }
  const source = replaySource(store, mask.baseRun, field);
  requireReplayModel(store, mask.baseRun, source, field);
  const recipe = source.recipe;
  const { run } = await store.get(RUNS).load(mask.baseRun);
  const ids = distinctIds(run.steps);
  const drop = Math.round(mask.dropFraction * ids.length);
  if (drop < 1 || drop >= ids.length) {
    throw new InvalidInputError(
      `curriculum.dropFraction ${mask.dropFraction} of the base run's ${ids.length} training ids ` +
        `drops ${drop}; it must drop at least one and keep at least one`,
      { field: "curriculum.dropFraction", trainIds: ids.length },
    );
  }
  const full = {
    ...request,
    model: source.model,
    dataset: source.dataset,
    trainExamples: ids,
    testExamples: run.testExamples,
    batchSize: recipe.rows,
    optimizer: recipe.optimizer as FullRequest["optimizer"],
    curriculum: { batches: run.steps.map((s) => s.batch) },
  } as FullRequest;
  return {
    full,
    // Run r drops a seeded sample of the ids; the base run's own weights stay under it.
    dataWeights: (r) => {
      const weights = new Map<string, number>();
      for (const step of run.steps) {
        step.weights?.forEach((w, k) => w !== 1 && weights.set(step.batch[k], w));
      }
      const order = shuffled(ids, seededUniform((request.seed + r * 0x9e3779b1) >>> 0));
      for (const id of order.slice(0, drop)) weights.set(id, 0);
      return weights;
    },
    contextLength: recipe.contextLength,
    evalBatchSize: recipe.evalRows,
    mask,
  };
}

/** What recording needs: the store (models, datasets, runs), the job manager and the GPU. */
export interface TrainingDeps {
  store: Store;
  jobs: JobManager;
  gpu: GpuHandle;
}

/** Batch entries over all runs' curricula: planned up front, so held in memory at once. */
export const MAX_CURRICULUM_ENTRIES = 20_000_000;
/** One run's loss matrix, (steps + 1) × test examples, held in memory while it is recorded. */
export const MAX_RUN_LOSS_VALUES = 50_000_000;

/** The listed examples, or `selection` of them drawn (seeded) from those not in `exclude`. */
function pick(
  all: readonly DatasetExample[],
  selection: string[] | number,
  exclude: ReadonlySet<string>,
  seed: number,
  field: string,
): DatasetExample[] {
  if (Array.isArray(selection)) {
    const byId = new Map(all.map((e) => [e.id, e]));
    const unknown = selection.filter((id) => !byId.has(id));
    if (unknown.length > 0) {
      throw new InvalidInputError(
        `${field}: ids not in the dataset: ${unknown.slice(0, 5).join(", ")}`,
        { field, unknown: listSome(unknown) },
      );
    }
    return selection.map((id) => byId.get(id)!);
  }
  const pool = shuffled(
    all.filter((e) => !exclude.has(e.id)),
    seededUniform((seed ^ 0x9e3779b9) >>> 0),
  );
  if (selection > pool.length) {
    throw new InvalidInputError(
      `${field}: ${selection} examples asked for, but only ${pool.length} are available`,
      { field, available: pool.length },
    );
  }
  return pool.slice(0, selection);
}

/** The run-length and curriculum fields that go together are given together. */
function checkRunLength(request: TrainingRunsRequest): void {
  if (
    (request.steps === undefined) === (request.epochs === undefined) &&
    !("batches" in Object(request.curriculum))
  ) {
    throw new InvalidInputError("give exactly one of `steps` and `epochs`", { field: "steps" });
  }
  if (request.curriculum !== "subsample" && request.subsampleFraction !== undefined) {
    throw new InvalidInputError('`subsampleFraction` applies only to curriculum "subsample"', {
      field: "subsampleFraction",
    });
  }
  if (request.curriculum === "subsample" && request.subsampleFraction === undefined) {
    throw new InvalidInputError('curriculum "subsample" needs `subsampleFraction`', {
      field: "subsampleFraction",
    });
  }
}

/** A study that exists already fixes the test examples. */
function checkStudyTests(store: Store, study: string, test: readonly DatasetExample[]): void {
  const studyTests = store.get(RUNS).studyTestExamples(study);
  if (!studyTests) return;
  const ours = new Set(test.map((e) => e.id));
  const missing = studyTests.filter((id) => !ours.has(id));
  const theirs = new Set(studyTests);
  const extra = test.map((e) => e.id).filter((id) => !theirs.has(id));
  if (missing.length > 0 || extra.length > 0) {
    throw new ConflictError(`the test examples differ from study "${study}"'s`, {
      field: "testExamples",
      missing: listSome(missing),
      unexpected: listSome(extra),
    });
  }
}

/** Refuses requests whose plan alone would exhaust memory, before anything is planned. */
function checkRecordingSize(
  request: FullRequest,
  trainCount: number,
  testCount: number,
): void {
  const explicit = typeof request.curriculum === "object" ? request.curriculum.batches : null;
  const drawn = request.curriculum === "subsample"
    ? Math.max(1, Math.round(trainCount * (request.subsampleFraction ?? 1)))
    : trainCount;
  const stepsPerRun = explicit
    ? explicit.length
    : request.steps ?? (request.epochs ?? 1) * Math.ceil(drawn / request.batchSize);
  const entries = explicit
    ? request.runs * explicit.reduce((n, batch) => n + batch.length, 0)
    : request.runs * stepsPerRun * request.batchSize;
  const lossValues = (stepsPerRun + 1) * testCount;
  if (entries > MAX_CURRICULUM_ENTRIES || lossValues > MAX_RUN_LOSS_VALUES) {
    throw new InvalidInputError(
      `this request plans ${entries} batch entries over ${request.runs} runs and a ` +
        `${stepsPerRun + 1} × ${testCount} loss matrix per run; the limits are ` +
        `${MAX_CURRICULUM_ENTRIES} entries and ${MAX_RUN_LOSS_VALUES} loss values per run ` +
        `(fewer runs, steps or test examples)`,
      {
        field: entries > MAX_CURRICULUM_ENTRIES ? "runs" : "testExamples",
        batchEntries: entries,
        lossValuesPerRun: lossValues,
        maxBatchEntries: MAX_CURRICULUM_ENTRIES,
        maxLossValuesPerRun: MAX_RUN_LOSS_VALUES,
      },
      "training_request_too_large",
    );
  }
}

function runNamesInStudy(store: Store, study: string): Set<string> {
  return new Set(
    store.get(RUNS).list({ study, limit: 100_000, offset: 0 }).runs.map((r) => r.name),
  );
}

/** The run names, none of them taken in the study yet (except the runs a resumed job skips). */
function freeRunNames(
  store: Store,
  request: TrainingRunsRequest,
  resume?: Pick<ResumePlan, "runNames" | "skipRuns">,
): string[] {
  const prefix = request.namePrefix ?? `training-${crypto.randomUUID().slice(0, 8)}`;
  const runNames = resume?.runNames ??
    Array.from({ length: request.runs }, (_, r) => `${prefix}-${r}`);
  const existing = runNamesInStudy(store, request.study);
  const taken = runNames.filter((name, r) => existing.has(name) && !resume?.skipRuns.has(r));
  if (taken.length > 0) {
    throw new ConflictError(`run names already used in study "${request.study}"`, {
      field: "namePrefix",
      taken: listSome(taken),
    }, "name_taken");
  }
  return runNames;
}

/**
 * Checks the request (GPU first, then the fields, the model, the dataset, the study and the
 * plan's size), plans every run, and queues the job that records them. The job plans again from
 * its stored input on whichever node runs it (trainingRunsKind).
 */
export async function startRecording(
  deps: TrainingDeps,
  request: TrainingRunsRequest,
  resume?: ResumePlan,
): Promise<{ job: JobRecord; runNames: string[] }> {
  requireRuntime(deps.gpu, GPU_NEED);
  const { full, runNames, trainCount, testCount } = await prepareRecording(
    deps.store,
    request,
    resume,
  );
  const input: TrainingJobInput = {
    study: full.study,
    model: full.model,
    dataset: full.dataset,
    runs: full.runs,
    runNames,
    trainExamples: trainCount,
    testExamples: testCount,
    batchSize: full.batchSize,
    steps: full.steps,
    epochs: full.epochs,
    seed: full.seed,
    checkpointEvery: full.checkpointEvery,
    request,
    ...(resume
      ? { skipRuns: [...resume.skipRuns].sort((a, b) => a - b), resumes: resume.from }
      : {}),
  };
  return { job: deps.jobs.submit("training-runs", input), runNames };
}

const GPU_NEED = { what: "training needs a GPU", noDevice: "none" } as const;

/** A request planned in full: what recordRuns takes, and the names its runs are stored under. */
interface PreparedRecording {
  full: FullRequest;
  maskPlan: MaskPlan | null;
  options: Omit<RecordRunsOptions, "runtime">;
  plan: ReturnType<typeof planRecording>;
  runNames: string[];
  trainCount: number;
  testCount: number;
}

/**
 * The one planning of a recording, for the request, its job (on any node) and a resumed job:
 * deterministic from the request (seeded draws), the stored model, dataset and base run.
 */
async function prepareRecording(
  store: Store,
  request: TrainingRunsRequest,
  resume?: Pick<ResumePlan, "runNames" | "skipRuns">,
): Promise<PreparedRecording> {
  const maskPlan = isMask(request.curriculum)
    ? await expandMask(store, request, request.curriculum)
    : null;
  const full = maskPlan?.full ?? requireFull(request);
  checkRunLength(full);
  const model = await loadModel(store, full.model);
  const examples = await loadDatasetExamples(store, full.dataset);
  if (examples.length === 0) {
    throw new InvalidInputError(`dataset ${full.dataset} is empty`, { field: "dataset" });
  }
  const train = pick(examples, full.trainExamples, new Set(), full.seed, "trainExamples");
  const test = pick(
    examples,
    full.testExamples,
    new Set(train.map((e) => e.id)),
    full.seed + 1,
    "testExamples",
  );
  checkStudyTests(store, full.study, test);
  checkRecordingSize(full, train.length, test.length);
  const runNames = freeRunNames(store, full, resume);
  const curriculum = full.curriculum === "shuffle"
    ? { kind: "shuffle" as const }
    : full.curriculum === "subsample"
    ? { kind: "subsample" as const, subsampleFraction: full.subsampleFraction! }
    : { batches: full.curriculum.batches };
  const options: Omit<RecordRunsOptions, "runtime"> = {
    config: model.config,
    baseParams: model.params,
    tokenizer: model.tokenizer,
    trainExamples: train,
    testExamples: test,
    study: full.study,
    runName: (r) => runNames[r],
    runs: full.runs,
    steps: full.steps,
    epochs: full.epochs,
    batchSize: full.batchSize,
    optimizer: full.optimizer as RecordRunsOptions["optimizer"],
    curriculum,
    seed: full.seed,
    checkpointEvery: full.checkpointEvery,
    ...(maskPlan
      ? {
        dataWeights: maskPlan.dataWeights,
        contextLength: maskPlan.contextLength,
        evalBatchSize: maskPlan.evalBatchSize,
      }
      : {}),
  };
  return {
    full,
    maskPlan,
    options,
    plan: planRecording(options),
    runNames,
    trainCount: train.length,
    testCount: test.length,
  };
}

/** What a resumed recording keeps from the job it redoes. */
interface ResumePlan {
  from: string;
  runNames: string[];
  /** Indices of the runs already in the study: not recorded again. */
  skipRuns: ReadonlySet<number>;
}

/**
 * POST /v1/jobs/:id/resume of a training-runs job: the same request, run names and seeds, recording
 * only the runs the study lacks, so the study ends as the uninterrupted job would have left it.
 */
export async function resumeRecording(
  deps: TrainingDeps,
  previous: JobRecord,
): Promise<{ job: JobRecord; runNames: string[]; skipped: number[] }> {
  const { request, runNames } = storedRecording(previous);
  const skipRuns = recordedRunIndices(deps.store, request.study, runNames);
  if (skipRuns.size === runNames.length) {
    throw new ConflictError(`every run of job ${previous.id} is already stored`, {
      job: previous.id,
      runs: runNames.length,
    }, "nothing_to_resume");
  }
  const started = await startRecording(deps, request, {
    from: previous.id,
    runNames,
    skipRuns,
  });
  return { ...started, skipped: [...skipRuns].sort((a, b) => a - b) };
}

/** The request and run names a training-runs job stored; not_resumable when it has none. */
function storedRecording(job: JobRecord): { request: TrainingRunsRequest; runNames: string[] } {
  const input = job.input as Partial<TrainingJobInput> | null;
  const parsed = TrainingRunsSchema.safeParse(input?.request);
  if (!parsed.success || !Array.isArray(input?.runNames)) {
    throw new ConflictError(
      `job ${job.id} was started before its request was stored with it; send the request again`,
      { job: job.id },
      "not_resumable",
    );
  }
  return { request: parsed.data, runNames: input.runNames as string[] };
}

/** Indices of the runs whose names the study holds already: never recorded a second time. */
function recordedRunIndices(store: Store, study: string, runNames: string[]): Set<number> {
  const existing = runNamesInStudy(store, study);
  return new Set(runNames.flatMap((name, r) => (existing.has(name) ? [r] : [])));
}

/**
 * The training-runs job kind: any node with a GPU plans the recording again from the stored
 * request and run names, and records only the runs the study lacks. An attempt that died midway
 * left its finished runs in the study (each with the job's kept result, in one transaction), so
 * running the same job again completes it without a duplicate. A name in the study that neither
 * this job nor the job it resumes stored was taken meanwhile: that is a conflict, not a skip.
 */
export function trainingRunsKind(deps: Pick<TrainingDeps, "store" | "gpu">): JobKind<
  TrainingJobInput
> {
  return {
    needs: "gpu",
    build: async (record) => {
      const runtime = requireRuntime(deps.gpu, GPU_NEED);
      const { request, runNames } = storedRecording(record);
      const previous = keptRecording(record.result);
      const ours = new Set([...(record.input.skipRuns ?? []), ...previous.runs.map((r) => r.run)]);
      const inStudy = recordedRunIndices(deps.store, request.study, runNames);
      const skipRuns = new Set([...inStudy].filter((r) => ours.has(r)));
      const prepared = await prepareRecording(deps.store, request, { runNames, skipRuns });
      return trainingJob({
        store: deps.store,
        runtime,
        options: prepared.options,
        plan: prepared.plan,
        mask: prepared.maskPlan?.mask,
        skipRuns,
        previous: {
          runs: previous.runs.filter((r) => skipRuns.has(r.run)),
          checkpoints: previous.checkpoints.filter((c) => skipRuns.has(c.run)),
        },
      });
    },
  };
}
