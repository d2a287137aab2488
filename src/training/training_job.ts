// The background job behind POST /v1/training-runs: fine-tune K runs from one base model and store
// each finished run in its study (as an uploaded run would be), with its checkpoints every N steps
// (owned by the run). Cancelling keeps the finished runs; the run in progress and its checkpoints
// are discarded.
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { JobContext } from "../jobs/manager.ts";
import type { Store } from "../store/store.ts";
import { type RecordingPlan, recordRuns, type RecordRunsOptions } from "./recorder.ts";
import { RUNS } from "../runs/run_store.ts";
import { RECIPE_VERSION, type TrainingRecipe } from "./recipe.ts";

export interface TrainingJobInput {
  study: string;
  model: string;
  dataset: string;
  runs: number;
  runNames: string[];
  trainExamples: number;
  testExamples: number;
  batchSize: number;
  steps?: number;
  epochs?: number;
  seed: number;
  checkpointEvery?: number;
  /** The request as sent (defaults applied), so that POST /v1/jobs/:id/resume can redo it. */
  request: unknown;
  /** Run indices a resumed job skips because an earlier job stored them. */
  skipRuns?: number[];
  /** The job this one resumes. */
  resumes?: string;
}

export interface TrainingJobDeps {
  store: Store;
  runtime: GpuRuntime;
  options: Omit<RecordRunsOptions, "runtime" | "signal" | "onProgress" | "onCheckpoint">;
  plan: RecordingPlan;
  /** Mask runs: the base run and the fraction of its ids each run weighs 0. */
  mask?: TrainingRecipe["mask"];
  /** Run indices already in the study (stored by this job's earlier attempt or the one resumed). */
  skipRuns: ReadonlySet<number>;
  /** What an earlier attempt of this same job stored (its kept result), listed again. */
  previous?: { runs: StoredRun[]; checkpoints: Checkpoint[] };
}

interface Checkpoint {
  run: number;
  step: number;
  tensor: string;
}

interface StoredRun {
  run: number;
  id: string;
  name: string;
  finalTrainLoss: number;
}

/** The runs and checkpoints an earlier attempt kept in `result` (none when it kept nothing). */
export function keptRecording(result: unknown): { runs: StoredRun[]; checkpoints: Checkpoint[] } {
  const kept = result as Partial<ReturnType<typeof summary>> | null;
  return {
    runs: Array.isArray(kept?.runs) ? kept.runs : [],
    checkpoints: Array.isArray(kept?.checkpoints) ? kept.checkpoints : [],
  };
}

/** The job's result, and what an interrupted or cancelled job keeps as its result. */
function summary(
  input: TrainingJobInput,
  runs: StoredRun[],
  checkpoints: Checkpoint[],
) {
  return {
    study: input.study,
    runs,
    checkpoints,
    ...(input.resumes ? { resumes: input.resumes, skipped: input.skipRuns ?? [] } : {}),
  };
}

/** What a replay of run `index` needs besides its batches (recipe.ts). */
function recipeOf(deps: TrainingJobDeps, index: number): TrainingRecipe {
  const { plan, options } = deps;
  return {
    version: RECIPE_VERSION,
    optimizer: plan.optimizers[index],
    rows: plan.rows,
    evalRows: plan.evalRows,
    contextLength: plan.contextLength,
    seed: options.seed,
    run: index,
    ...(deps.mask ? { mask: deps.mask } : {}),
  };
}

export function trainingJob(deps: TrainingJobDeps) {
  return async (ctx: JobContext<TrainingJobInput>) => {
    const { store, plan } = deps;
    // Steps of the runs this attempt records (the runs stored before are skipped).
    const skip = deps.skipRuns;
    const stepsOf = plan.curricula.map((c, r) => (skip.has(r) ? 0 : c.length));
    const totalSteps = stepsOf.reduce((acc, n) => acc + n, 0);
    const stepsBefore = stepsOf.map((_, r) => stepsOf.slice(0, r).reduce((acc, n) => acc + n, 0));
    const stored: StoredRun[] = [...deps.previous?.runs ?? []];
    const checkpoints: Checkpoint[] = [...deps.previous?.checkpoints ?? []];
    let pending: Checkpoint[] = [];
    try {
      const recorded = recordRuns({
        ...deps.options,
        runtime: deps.runtime,
        signal: ctx.signal,
        skipRuns: skip,
        // step counts across all runs (for the ETA), so throughput is given explicitly: the
        // derived one assumes steps restart with each phase.
        onProgress: (p) =>
          ctx.progress({
            phase: `run ${p.run + 1}/${p.runs}`,
            step: stepsBefore[p.run] + p.step,
            total: totalSteps,
            fraction: (stepsBefore[p.run] + p.step) / totalSteps,
            throughput: p.tokensPerSecond,
            throughputUnit: "tokens",
            message: `step ${p.step}/${p.steps}, train loss ${p.trainLoss.toFixed(4)}, ` +
              `${Math.round(p.tokensPerSecond)} tokens/s`,
            details: {
              run: p.run,
              runs: p.runs,
              runStep: p.step,
              runSteps: p.steps,
              trainLoss: p.trainLoss,
              tokensPerSecond: p.tokensPerSecond,
            },
          }),
        onCheckpoint: async (run, step, bytes) => {
          const file = await store.tensors.putEncoded(bytes);
          pending.push({ run, step, tensor: file.id });
        },
      }, plan);
      for await (const { index, run, stats } of recorded) {
        const provenance = {
          model: ctx.input.model,
          dataset: ctx.input.dataset,
          training: recipeOf(deps, index),
        };
        let entry: StoredRun | null = null;
        // The job's result lists the run in the run's own transaction: a crash never leaves a
        // stored run that the interrupted job's result does not name, nor the reverse.
        await store.get(RUNS).create(run, "training", pending, provenance, (id) => {
          entry = { run: index, id, name: run.name, finalTrainLoss: stats.finalTrainLoss };
          ctx.keep(summary(ctx.input, [...stored, entry], [...checkpoints, ...pending]));
        });
        stored.push(entry!);
        checkpoints.push(...pending);
        pending = [];
      }
      return summary(ctx.input, stored, checkpoints);
    } catch (e) {
      // Checkpoints of the run that did not finish (or failed to store) belong to nothing; those
      // of finished runs are theirs (GET /v1/runs/:id/checkpoints) and stay with them.
      for (const c of pending) await store.tensors.delete(c.tensor);
      // Rewritten outside any transaction: one rolled back with a failed run may have named it.
      ctx.keep(summary(ctx.input, stored, checkpoints));
      if (stored.length > 0) {
        ctx.logger.warn("training stopped; finished runs were kept", {
          kept: stored.map((s) => s.id),
        });
      }
      throw e;
    }
  };
}
