// POST /v1/training-runs: record training runs by fine-tuning a stored model on a dataset under K
// seeded curricula; each finished run lands in the study like an uploaded one.
import { createRoute, z } from "@hono/zod-openapi";
import { loadDatasetExamples } from "../src/datasets/load.ts";
import { ApiError } from "../src/http/api_error.ts";
import { BEARER_SECURITY, errorResponse, jsonContent } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { loadModel } from "../src/models/load.ts";
import { listSome } from "../src/runs/run_input.ts";
import { seededUniform, shuffled } from "../src/random.ts";
import { planRecording, type RecordRunsOptions } from "../src/training/recorder.ts";
import { trainingJob } from "../src/training/training_job.ts";
import type { DatasetExample } from "../src/datasets/example.ts";
import { RUNS } from "../src/runs/run_store.ts";

const ExampleSelection = z.union([
  z.array(z.string().min(1).max(256)).min(1).max(100_000),
  z.number().int().min(1).max(100_000),
]);

const TrainingRunsSchema = z.object({
  study: z.string().min(1).max(256),
  model: z.string().min(1).max(200),
  dataset: z.string().min(1).max(200),
  trainExamples: ExampleSelection.openapi({
    description: "Training ids, or a count drawn (seeded) from the dataset",
  }),
  testExamples: ExampleSelection.openapi({
    description: "Test ids, or a count drawn (seeded) from the examples not used for training",
  }),
  runs: z.number().int().min(1).max(1000),
  steps: z.number().int().min(1).max(1_000_000).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
  batchSize: z.number().int().min(1).max(4096),
  optimizer: z.object({
    kind: z.enum(["adamw", "sgd"]),
    lr: z.number().positive(),
    weightDecay: z.number().min(0).max(1e6).optional(),
    schedule: z.record(z.string(), z.unknown()).optional(),
  }).passthrough().openapi({
    description: "AdamW (beta1, beta2, eps, weightDecay) or SGD (momentum, weightDecay); " +
      "`schedule` = {warmupSteps, decay: constant|linear|cosine, minLrRatio, totalSteps?} " +
      "(decay spans the run when totalSteps is omitted); global-norm clipping by `maxGradNorm`.",
  }),
  curriculum: z.union([
    z.enum(["shuffle", "subsample"]),
    z.object({ batches: z.array(z.array(z.string().min(1).max(256)).min(1)).min(1) }).strict(),
  ]).default("shuffle"),
  subsampleFraction: z.number().gt(0).max(1).optional(),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
  checkpointEvery: z.number().int().min(1).optional(),
  namePrefix: z.string().min(1).max(200).optional().openapi({
    description: "Runs are stored as <namePrefix>-<k>; default training-<job id prefix>",
  }),
}).strict().openapi("TrainingRunsRequest");

const route = createRoute({
  method: "post",
  path: "/v1/training-runs",
  summary: "Record training runs by fine-tuning a model (a job)",
  description: "Each run starts from the model's weights with its own seeded curriculum and " +
    "records every test example's loss before training and after every step; finished runs are " +
    "stored in `study` and can be fitted by /v1/simulators without conversion. Progress events " +
    "carry run, step, training loss and tokens/s. A NaN/Inf loss fails the job naming the run " +
    "and step; cancelling keeps the runs already finished.",
  security: BEARER_SECURITY,
  request: {
    body: { required: true, content: { "application/json": { schema: TrainingRunsSchema } } },
  },
  responses: {
    202: jsonContent(z.object({ job: z.string(), runNames: z.array(z.string()) }), "Started"),
    400: errorResponse("Invalid request; the message names the field, example or id"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model or dataset"),
    409: errorResponse("Run names taken, or test examples differ from the study's"),
    503: errorResponse("No GPU"),
  },
});

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
      throw ApiError.badRequest(
        `${field}: ids not in the dataset: ${unknown.slice(0, 5).join(", ")}`,
        {
          field,
          unknown: listSome(unknown),
        },
      );
    }
    return selection.map((id) => byId.get(id)!);
  }
  const pool = shuffled(
    all.filter((e) => !exclude.has(e.id)),
    seededUniform((seed ^ 0x9e3779b9) >>> 0),
  );
  if (selection > pool.length) {
    throw ApiError.badRequest(
      `${field}: ${selection} examples asked for, but only ${pool.length} are available`,
      { field, available: pool.length },
    );
  }
  return pool.slice(0, selection);
}

/** Batch entries over all runs' curricula: planned up front, so held in memory at once. */
export const MAX_CURRICULUM_ENTRIES = 20_000_000;
/** One run's loss matrix, (steps + 1) × test examples, held in memory while it is recorded. */
export const MAX_RUN_LOSS_VALUES = 50_000_000;

/** Refuses requests whose plan alone would exhaust memory, before anything is planned. */
function checkRecordingSize(
  body: z.infer<typeof TrainingRunsSchema>,
  trainCount: number,
  testCount: number,
): void {
  const explicit = typeof body.curriculum === "object" ? body.curriculum.batches : null;
  const drawn = body.curriculum === "subsample"
    ? Math.max(1, Math.round(trainCount * (body.subsampleFraction ?? 1)))
    : trainCount;
  const stepsPerRun = explicit
    ? explicit.length
    : body.steps ?? (body.epochs ?? 1) * Math.ceil(drawn / body.batchSize);
  const entries = explicit
    ? body.runs * explicit.reduce((n, batch) => n + batch.length, 0)
    : body.runs * stepsPerRun * body.batchSize;
  const lossValues = (stepsPerRun + 1) * testCount;
  if (entries > MAX_CURRICULUM_ENTRIES || lossValues > MAX_RUN_LOSS_VALUES) {
    throw new ApiError(
      400,
      "training_request_too_large",
      `this request plans ${entries} batch entries over ${body.runs} runs and a ` +
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
    );
  }
}

export const trainingRunRoutes: RouteModule = (app, deps) => {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const runtime = deps.gpu.error === null ? deps.gpu.runtime : null;
    if (!runtime) {
      throw new ApiError(
        503,
        "gpu_unavailable",
        `training needs a GPU: ${deps.gpu.error ?? "none"}`,
      );
    }
    if (
      (body.steps === undefined) === (body.epochs === undefined) &&
      !("batches" in Object(body.curriculum))
    ) {
      throw ApiError.badRequest("give exactly one of `steps` and `epochs`", { field: "steps" });
    }
    if (body.curriculum !== "subsample" && body.subsampleFraction !== undefined) {
      throw ApiError.badRequest('`subsampleFraction` applies only to curriculum "subsample"', {
        field: "subsampleFraction",
      });
    }
    if (body.curriculum === "subsample" && body.subsampleFraction === undefined) {
      throw ApiError.badRequest('curriculum "subsample" needs `subsampleFraction`', {
        field: "subsampleFraction",
      });
    }
    const model = await loadModel(deps.store, body.model);
    const examples = await loadDatasetExamples(deps.store, body.dataset);
    if (examples.length === 0) {
      throw ApiError.badRequest(`dataset ${body.dataset} is empty`, { field: "dataset" });
    }
    const train = pick(examples, body.trainExamples, new Set(), body.seed, "trainExamples");
    const test = pick(
      examples,
      body.testExamples,
      new Set(train.map((e) => e.id)),
      body.seed + 1,
      "testExamples",
    );
    const studyTests = deps.store.get(RUNS).studyTestExamples(body.study);
    if (studyTests) {
      const ours = new Set(test.map((e) => e.id));
      const missing = studyTests.filter((id) => !ours.has(id));
      const theirs = new Set(studyTests);
      const extra = test.map((e) => e.id).filter((id) => !theirs.has(id));
      if (missing.length > 0 || extra.length > 0) {
        throw ApiError.conflict(`the test examples differ from study "${body.study}"'s`, {
          field: "testExamples",
          missing: listSome(missing),
          unexpected: listSome(extra),
        });
      }
    }
    checkRecordingSize(body, train.length, test.length);
    const prefix = body.namePrefix ?? `training-${crypto.randomUUID().slice(0, 8)}`;
    const runNames = Array.from({ length: body.runs }, (_, r) => `${prefix}-${r}`);
    const existing = new Set(
      deps.store.get(RUNS).list({ study: body.study, limit: 100_000, offset: 0 }).runs.map((r) =>
        r.name
      ),
    );
    const taken = runNames.filter((name) => existing.has(name));
    if (taken.length > 0) {
      throw ApiError.conflict(`run names already used in study "${body.study}"`, {
        field: "namePrefix",
        taken: listSome(taken),
      });
    }
    const curriculum = body.curriculum === "shuffle"
      ? { kind: "shuffle" as const }
      : body.curriculum === "subsample"
      ? { kind: "subsample" as const, subsampleFraction: body.subsampleFraction! }
      : { batches: body.curriculum.batches };
    const options: Omit<RecordRunsOptions, "runtime"> = {
      config: model.config,
      baseParams: model.params,
      tokenizer: model.tokenizer,
      trainExamples: train,
      testExamples: test,
      study: body.study,
      runName: (r) => runNames[r],
      runs: body.runs,
      steps: body.steps,
      epochs: body.epochs,
      batchSize: body.batchSize,
      optimizer: body.optimizer as RecordRunsOptions["optimizer"],
      curriculum,
      seed: body.seed,
      checkpointEvery: body.checkpointEvery,
    };
    const plan = planRecording(options);
    const job = deps.jobs.submit(
      "training-runs",
      {
        study: body.study,
        model: body.model,
        dataset: body.dataset,
        runs: body.runs,
        runNames,
        trainExamples: train.length,
        testExamples: test.length,
        batchSize: body.batchSize,
        steps: body.steps,
        epochs: body.epochs,
        seed: body.seed,
        checkpointEvery: body.checkpointEvery,
      },
      trainingJob({ store: deps.store, runtime, options, plan }),
    );
    return c.json({ job: job.id, runNames }, 202);
  });
};
