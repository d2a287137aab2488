// The background job behind POST /v1/training-runs: fine-tune K runs from one base model and store
// each finished run in its study (as an uploaded run would be), with its checkpoints every N steps
// (owned by the run). Cancelling keeps the finished runs; the run in progress and its checkpoints
// are discarded.
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { JobContext } from "../jobs/manager.ts";
import type { Store } from "../store/store.ts";
import { type RecordingPlan, recordRuns, type RecordRunsOptions } from "./recorder.ts";
import { RUNS } from "../runs/run_store.ts";

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
}

export interface TrainingJobDeps {
  store: Store;
  runtime: GpuRuntime;
  options: Omit<RecordRunsOptions, "runtime" | "signal" | "onProgress" | "onCheckpoint">;
  plan: RecordingPlan;
}

interface Checkpoint {
  run: number;
  step: number;
  tensor: string;
}

export function trainingJob(deps: TrainingJobDeps) {
  return async (ctx: JobContext<TrainingJobInput>) => {
    const { store, plan } = deps;
    const totalSteps = plan.curricula.reduce((acc, c) => acc + c.length, 0);
    const stepsBefore = plan.curricula.map((_, r) =>
      plan.curricula.slice(0, r).reduce((acc, c) => acc + c.length, 0)
    );
    const stored: { run: number; id: string; name: string; finalTrainLoss: number }[] = [];
    const checkpoints: Checkpoint[] = [];
    let pending: Checkpoint[] = [];
    try {
      const recorded = recordRuns({
        ...deps.options,
        runtime: deps.runtime,
        signal: ctx.signal,
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
        const record = await store.get(RUNS).create(run, "training", pending, {
          model: ctx.input.model,
          dataset: ctx.input.dataset,
        });
        stored.push({
          run: index,
          id: record.id,
          name: record.name,
          finalTrainLoss: stats.finalTrainLoss,
        });
        checkpoints.push(...pending);
        pending = [];
      }
      return { study: ctx.input.study, runs: stored, checkpoints };
    } catch (e) {
      // Checkpoints of the run that did not finish (or failed to store) belong to nothing; those
      // of finished runs are theirs (GET /v1/runs/:id/checkpoints) and stay with them.
      for (const c of pending) await store.tensors.delete(c.tensor);
      if (stored.length > 0) {
        ctx.logger.warn("training stopped; finished runs were kept", {
          kept: stored.map((s) => s.id),
        });
      }
      throw e;
    }
  };
}
