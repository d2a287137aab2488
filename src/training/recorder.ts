// Records training runs for Simfluence: K runs from the same base weights, each with its own
// seeded curriculum, with every test example's loss before training and after every step.
//
// Memory stays bounded: one Gpt2Model serves every run (its weights are reset per run) and one
// optimiser state lives at a time. Every batch, training and evaluation alike, has the same
// shape [rows, T] (T = the longest example, short batches filled with label-free rows), so the
// model's activation buffers are allocated once rather than per batch.
//
// Readbacks: one per training step. The step and every evaluation chunk after it are recorded
// without reading back (Gpt2Model.record*Into), each copying its losses into its own range of
// one GPU tensor, which is then read with a single map: a round trip per step, not per chunk.
import type { DatasetExample } from "../datasets/example.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Batch } from "../gpt2/batch.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { Gpt2Model } from "../gpt2/model.ts";
import type { Deferred, LossResult } from "../gpt2/results.ts";
import {
  type GpuOptimizer,
  type OptimizerConfig,
  type OptimizerConfigInput,
  optimizerSchema,
} from "../gpt2/optimizer.ts";
import { type ParamSet, saveParams } from "../gpt2/params.ts";
import type { RunInput, RunStep } from "../runs/run_input.ts";
import type { TextTokenizer } from "../text/tokenizer.ts";
import { type CurriculumSpec, planCurriculum, type RunLength } from "./curriculum.ts";
import { buildBatch, type EncodedExample, encodeExamples, realTokens } from "./encode.ts";
import { TrainingDivergedError, TrainingInputError } from "./errors.ts";

export interface RecorderProgress {
  /** 0-based run index. */
  run: number;
  runs: number;
  /** Steps finished in this run. */
  step: number;
  steps: number;
  trainLoss: number;
  /**
   * Real (non-padding) training tokens per second of recorded steps in this run so far (each
   * step's time includes its evaluation of the test examples).
   */
  tokensPerSecond: number;
}

export interface RecordRunsOptions {
  runtime: GpuRuntime;
  config: Gpt2Config;
  baseParams: ParamSet;
  tokenizer: TextTokenizer;
  trainExamples: readonly DatasetExample[];
  testExamples: readonly DatasetExample[];
  /** The RunInput's study name. */
  study: string;
  /** The RunInput's name for run r; default `run-${r}`. */
  runName?: (run: number) => string;
  runs: number;
  /** Run length for shuffle / subsample curricula: exactly one of steps or epochs. */
  steps?: number;
  epochs?: number;
  batchSize: number;
  /** Linear / cosine schedules without totalSteps decay over the run's own length. */
  optimizer: OptimizerConfigInput;
  curriculum: CurriculumSpec;
  /** Run r's curriculum is seeded with seed + r. */
  seed: number;
  /** Rows per evaluation forward; default the training batch rows (one buffer shape). */
  evalBatchSize?: number;
  /** Every this many steps (1-based multiples), onCheckpoint gets the weights as safetensors. */
  checkpointEvery?: number;
  onCheckpoint?: (run: number, step: number, safetensors: Uint8Array) => void | Promise<void>;
  onProgress?: (progress: RecorderProgress) => void;
  signal?: AbortSignal;
  /** Runs not recorded (a resumed job's runs stored before); the others are unchanged by it. */
  skipRuns?: ReadonlySet<number>;
  /**
   * Run r's data weights by training id (MATH.md §7; ids not listed weigh 1): a mask run weighs
   * its dropped ids 0 and keeps their batch slots. Recorded in each step's `weights`.
   */
  dataWeights?: (run: number) => ReadonlyMap<string, number> | null;
  /** Pads every batch to at least this length (a replay of another run's shapes). */
  contextLength?: number;
}

export interface RunStats {
  /** The last step's batch loss (computed before that step's update). */
  finalTrainLoss: number;
  tokensPerSecond: number;
  /** Wall time of the whole run, evaluation included. */
  seconds: number;
  trainTokens: number;
}

export interface RecordedRun {
  /** 0-based run index. */
  index: number;
  run: RunInput;
  stats: RunStats;
}

function positiveInt(value: number | undefined, field: string): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
    throw new TrainingInputError(
      "invalid_training_request",
      `${field} must be a positive integer`,
      {
        field,
        value,
      },
    );
  }
}

function indexById(
  examples: readonly EncodedExample[],
  field: string,
): Map<string, EncodedExample> {
  const byId = new Map<string, EncodedExample>();
  for (const e of examples) {
    if (byId.has(e.id)) {
      throw new TrainingInputError("duplicate_example_id", `${field}: id "${e.id}" appears twice`, {
        field,
        exampleId: e.id,
      });
    }
    byId.set(e.id, e);
  }
  return byId;
}

function runLength(
  options: Pick<RecordRunsOptions, "steps" | "epochs" | "curriculum">,
): RunLength | undefined {
  const { steps, epochs, curriculum } = options;
  if ("batches" in curriculum) {
    if (steps !== undefined || epochs !== undefined) {
      throw new TrainingInputError(
        "invalid_training_request",
        "explicit batches set the run length: omit steps and epochs",
      );
    }
    return undefined;
  }
  if ((steps === undefined) === (epochs === undefined)) {
    throw new TrainingInputError("invalid_training_request", "give exactly one of steps or epochs");
  }
  return epochs !== undefined ? { epochs } : { steps: steps! };
}

/** The optimiser of a run of `steps` steps: decaying schedules default to the run's length. */
function optimizerFor(input: OptimizerConfigInput, steps: number): OptimizerConfig {
  const schedule = { ...(input.schedule ?? {}) };
  schedule.totalSteps ??= steps;
  const parsed = optimizerSchema.safeParse({ ...input, schedule });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({
      path: i.path.join(".") || "(root)",
      message: i.message,
    }));
    throw new TrainingInputError(
      "invalid_optimizer",
      `invalid optimizer: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      { issues },
    );
  }
  return parsed.data;
}

interface EvalChunk {
  batch: Batch;
  ids: string[];
}

/** Everything a recording needs that is decided on the CPU; see planRecording. */
export interface RecordingPlan {
  train: Map<string, EncodedExample>;
  test: EncodedExample[];
  /** Each run's batches of training ids. */
  curricula: string[][][];
  optimizers: OptimizerConfig[];
  /** The one shape [rows, contextLength] of training batches. */
  rows: number;
  evalRows: number;
  contextLength: number;
}

/**
 * Checks a request and plans every run without touching the GPU: call it before queueing a
 * job to turn every input problem into a TrainingInputError (400) up front.
 */
export function planRecording(
  options: Omit<RecordRunsOptions, "runtime" | "baseParams">,
): RecordingPlan {
  const { config, tokenizer } = options;
  positiveInt(options.runs, "runs");
  positiveInt(options.batchSize, "batchSize");
  positiveInt(options.evalBatchSize, "evalBatchSize");
  positiveInt(options.checkpointEvery, "checkpointEvery");
  if (options.testExamples.length === 0) {
    throw new TrainingInputError("invalid_training_request", "at least one test example is needed");
  }
  const trainList = encodeExamples(options.trainExamples, tokenizer, config);
  const test = encodeExamples(options.testExamples, tokenizer, config);
  const train = indexById(trainList, "trainExamples");
  indexById(test, "testExamples");
  const length = runLength(options);
  const trainIds = [...train.keys()];
  const curricula = Array.from(
    { length: options.runs },
    (_, run) =>
      planCurriculum(options.curriculum, {
        trainIds,
        batchSize: options.batchSize,
        length,
        seed: options.seed,
        run,
      }),
  );
  // Loops, not Math.max(...spread): a long study has more batches than a call may take arguments.
  let rows = 0;
  for (const plan of curricula) for (const batch of plan) rows = Math.max(rows, batch.length);
  let contextLength = options.contextLength ?? 0;
  for (const e of trainList) contextLength = Math.max(contextLength, e.tokens.length);
  for (const e of test) contextLength = Math.max(contextLength, e.tokens.length);
  return {
    train,
    test,
    curricula,
    optimizers: curricula.map((plan) => optimizerFor(options.optimizer, plan.length)),
    rows,
    evalRows: options.evalBatchSize ?? rows,
    contextLength,
  };
}

/**
 * Trains options.runs runs one after another and yields each as it finishes. Input problems
 * surface as a TrainingInputError from planRecording, which (as a default argument) runs when
 * recordRuns is called, before any GPU work; a non-finite loss
 * stops with a TrainingDivergedError naming the run and step; an abort rejects with the signal's
 * reason.
 */
export async function* recordRuns(
  options: RecordRunsOptions,
  plan: RecordingPlan = planRecording(options),
): AsyncGenerator<RecordedRun> {
  const { runtime: rt, signal } = options;
  const { test, rows, evalRows, contextLength: T } = plan;
  const layout = { contextLength: T, rows };
  const m = test.length;
  const chunks: EvalChunk[] = [];
  for (let start = 0; start < m; start += evalRows) {
    const part = test.slice(start, start + evalRows);
    chunks.push({
      batch: buildBatch(part, { contextLength: T, rows: evalRows }),
      ids: part.map((e) => e.id),
    });
  }

  signal?.throwIfAborted();
  // One readback tensor per step: [train step: rows·T token losses, Σ grad² | chunk losses...].
  const stepSize = rows * T + 1;
  const chunkSize = evalRows * T;
  const model = Gpt2Model.create(rt, options.baseParams);
  const readback = rt.zeros([stepSize + chunks.length * chunkSize]);
  try {
    /** Records every evaluation chunk; the returned function reads the losses out. */
    const recordEvaluation = async (run: number, step: number) => {
      const pending: Deferred<LossResult>[] = [];
      for (const [c, chunk] of chunks.entries()) {
        signal?.throwIfAborted();
        pending.push(
          await model.recordForwardInto(chunk.batch, readback, stepSize + c * chunkSize),
        );
      }
      return (values: Float32Array): Float32Array => {
        const out = new Float32Array(m);
        let j = 0;
        chunks.forEach((chunk, c) => {
          const { perExample } = pending[c].resolve(values);
          for (let k = 0; k < chunk.ids.length; k++, j++) {
            if (!Number.isFinite(perExample[k])) {
              throw new TrainingDivergedError(run, step, "test", chunk.ids[k]);
            }
            out[j] = perExample[k];
          }
        });
        return out;
      };
    };
    // Every run starts from the same weights, so the row before training is shared.
    const initialLosses = await recordEvaluation(0, 0);
    const initial = initialLosses((await rt.read([readback]))[0]);

    for (let r = 0; r < options.runs; r++) {
      if (options.skipRuns?.has(r)) continue;
      const started = performance.now();
      const curriculum = plan.curricula[r];
      const weightOf = options.dataWeights?.(r) ?? null;
      if (r > 0) model.setParams(options.baseParams);
      const optimizer: GpuOptimizer = model.createOptimizer(plan.optimizers[r]);
      try {
        const losses = new Float32Array((curriculum.length + 1) * m);
        losses.set(initial);
        const steps: RunStep[] = [];
        let trainSeconds = 0;
        let trainTokens = 0;
        let trainLoss = NaN;
        for (let t = 1; t <= curriculum.length; t++) {
          signal?.throwIfAborted();
          const examples = curriculum[t - 1].map((id) => plan.train.get(id)!);
          const weights = weightOf ? curriculum[t - 1].map((id) => weightOf.get(id) ?? 1) : null;
          const batch = buildBatch(examples, layout);
          if (weights) {
            batch.dataWeights = Array.from({ length: batch.B }, (_, b) => weights[b] ?? 1);
          }
          // Without a readback of its own the training step cannot be timed apart from its
          // evaluation: the throughput counts the whole recorded step.
          const stepStart = performance.now();
          const pending = await model.recordTrainStepInto(batch, optimizer, readback, 0);
          const testLosses = await recordEvaluation(r, t);
          const [values] = await rt.read([readback]);
          trainSeconds += (performance.now() - stepStart) / 1000;
          trainTokens += realTokens(examples);
          const result = pending.resolve(values);
          trainLoss = result.loss;
          if (!Number.isFinite(trainLoss)) throw new TrainingDivergedError(r, t, "train");
          losses.set(testLosses(values), t * m);
          const step: RunStep = { batch: [...curriculum[t - 1]], lr: result.lr };
          if (weights?.some((w) => w !== 1)) step.weights = weights;
          steps.push(step);
          options.onProgress?.({
            run: r,
            runs: options.runs,
            step: t,
            steps: curriculum.length,
            trainLoss,
            tokensPerSecond: trainTokens / Math.max(trainSeconds, 1e-9),
          });
          if (
            options.checkpointEvery && options.onCheckpoint && t % options.checkpointEvery === 0
          ) {
            await options.onCheckpoint(r, t, saveParams(await model.readParams()));
          }
        }
        const run: RunInput = {
          study: options.study,
          name: options.runName?.(r) ?? `run-${r}`,
          testExamples: test.map((e) => e.id),
          steps,
          losses,
        };
        const stats: RunStats = {
          finalTrainLoss: trainLoss,
          tokensPerSecond: trainTokens / Math.max(trainSeconds, 1e-9),
          seconds: (performance.now() - started) / 1000,
          trainTokens,
        };
        yield { index: r, run, stats };
      } finally {
        optimizer.dispose();
      }
    }
  } finally {
    readback.dispose();
    model.dispose();
  }
}
