// Metagradients (MAGIC, MATH.md §7): what one query's exact metagradient costs against recording
// the same run, and how many model states each checkpointing policy holds on the GPU.
//   1. Time: recordRuns trains a 2-layer GPT-2 on builtin:skills (byte tokens, batch 8, AdamW)
//      with the test-loss probes after every step; computeMetagradients then replays that very
//      recording (checked against its losses) and reverses it for one test example, "sqrt"
//      checkpointing. Both are timed in this process, alternately, and the ratio of the medians
//      is "recordings' worth" (issue 18's goal: at most 4). The metagradient's time is split
//      into its forward replay and the rest (replays of segments plus the reverse steps).
//   2. Memory: states held at once (peakStates) and their bytes (3 flat buffers of the
//      parameters' size each: θ, m, v) for "sqrt", "log" and "all" at two run lengths, with the
//      training steps each policy computes; "sqrt" should grow as √T, "log" as log T, "all" as T.
import type { DatasetExample } from "../src/datasets/example.ts";
import { skillExamples } from "../src/datasets/skills.ts";
import { median } from "../src/gpu/autotune.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { Batch } from "../src/gpt2/batch.ts";
import { parseGpt2Config } from "../src/gpt2/config.ts";
import type { OptimizerConfigInput } from "../src/gpt2/optimizer.ts";
import { paramLayout } from "../src/gpt2/layout.ts";
import { initParams, type ParamSet } from "../src/gpt2/params.ts";
import {
  computeMetagradients,
  type MetagradientPhase,
  type MetagradientProblem,
  type MetagradientResult,
} from "../src/metagradients/engine.ts";
import type { Checkpointing } from "../src/metagradients/states.ts";
import { seededUniform, shuffled } from "../src/random.ts";
import { byteTokenizer } from "../src/text/tokenizer.ts";
import { buildBatch } from "../src/training/encode.ts";
import {
  planRecording,
  type RecordedRun,
  type RecordingPlan,
  recordRuns,
  type RecordRunsOptions,
} from "../src/training/recorder.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

const WIDTH = 32;
const BATCH = 8;
const config = parseGpt2Config({
  vocab_size: 257,
  n_positions: 24,
  n_embd: WIDTH,
  n_layer: 2,
  n_head: 2,
});
const optimizer: OptimizerConfigInput = {
  kind: "adamw",
  lr: 1e-3,
  epsRoot: 1e-8,
  schedule: { warmupSteps: 2, decay: "linear" },
};
const label = `L=2 d=${WIDTH} B=${BATCH}, builtin:skills bytes`;

interface Setting {
  params: ParamSet;
  train: DatasetExample[];
  test: DatasetExample[];
}

function setting(tests: number): Setting {
  const examples = skillExamples();
  const byId = new Map(examples.map((e) => [e.id, e]));
  const ids = shuffled(examples.map((e) => e.id), seededUniform(11));
  return {
    params: initParams(config, 4321),
    train: ids.slice(0, 128).map((id) => byId.get(id)!),
    test: ids.slice(128, 128 + tests).map((id) => byId.get(id)!),
  };
}

function recordOptions(
  rt: GpuRuntime,
  s: Setting,
  steps: number,
  batchSize = BATCH,
): RecordRunsOptions {
  return {
    runtime: rt,
    config,
    baseParams: s.params,
    tokenizer: byteTokenizer,
    trainExamples: s.train,
    testExamples: s.test,
    study: "bench",
    runs: 1,
    steps,
    batchSize,
    optimizer,
    curriculum: { kind: "shuffle" },
    seed: 0,
  };
}

/** One recorded run (training plus the test-loss probe after every step), timed. */
async function record(options: RecordRunsOptions, plan: RecordingPlan) {
  const started = performance.now();
  let recorded: RecordedRun | null = null;
  for await (const r of recordRuns(options, plan)) recorded = r;
  return { recorded: recorded!, seconds: (performance.now() - started) / 1000 };
}

/** The recording as a metagradient problem: its batches, optimiser and recorded test losses. */
function problemOf(
  s: Setting,
  plan: RecordingPlan,
  recorded: RecordedRun,
  checkpointing: Checkpointing,
): MetagradientProblem {
  const layout = { contextLength: plan.contextLength, rows: plan.rows };
  const steps = recorded.run.steps.map((step) => ({
    batch: buildBatch(step.batch.map((id) => plan.train.get(id)!), layout),
    rowIds: Array.from({ length: plan.rows }, (_, b) => step.batch[b] ?? null),
  }));
  const m = plan.test.length;
  const probeBatches: Batch[] = [];
  for (let start = 0; start < m; start += plan.evalRows) {
    probeBatches.push(
      buildBatch(plan.test.slice(start, start + plan.evalRows), {
        contextLength: plan.contextLength,
        rows: plan.evalRows,
      }),
    );
  }
  return {
    initial: s.params,
    optimizer: plan.optimizers[0],
    steps,
    queries: [buildBatch([plan.test[0]])],
    checkpointing,
    probe: {
      batches: probeBatches,
      expected: (t) => recorded.run.losses.slice(t * m, (t + 1) * m),
    },
  };
}

/** computeMetagradients, timed, with wall time per phase (time to each phase's progress event). */
async function metagradient(rt: GpuRuntime, problem: MetagradientProblem) {
  const phases: Record<MetagradientPhase, number> = { forward: 0, replay: 0, reverse: 0 };
  const started = performance.now();
  let last = started;
  const result = await computeMetagradients(rt, problem, {
    onProgress: (p) => {
      const now = performance.now();
      phases[p.phase] += (now - last) / 1000;
      last = now;
    },
  });
  return { result, seconds: (performance.now() - started) / 1000, phases };
}

async function costFigures(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const T = quick ? 16 : 32;
  // Three repetitions in --quick too: one is at the mercy of a shared machine's minute.
  const reps = 3;
  const s = setting(8);
  const options = recordOptions(rt, s, T);
  const plan = planRecording(options);
  // Warm-up: pipelines of training, evaluation and every reverse kernel.
  const warm = await record(recordOptions(rt, s, 2), planRecording(recordOptions(rt, s, 2)));
  await metagradient(
    rt,
    problemOf(s, planRecording(recordOptions(rt, s, 2)), warm.recorded, "sqrt"),
  );

  const recordTimes: number[] = [], metaTimes: number[] = [];
  const forwardTimes: number[] = [], restTimes: number[] = [];
  let last: MetagradientResult | null = null;
  for (let i = 0; i < reps; i++) {
    const { recorded, seconds } = await record(options, plan);
    recordTimes.push(seconds);
    const run = await metagradient(rt, problemOf(s, plan, recorded, "sqrt"));
    metaTimes.push(run.seconds);
    forwardTimes.push(run.phases.forward);
    restTimes.push(run.seconds - run.phases.forward);
    last = run.result;
  }
  const recordS = median(recordTimes), metaS = median(metaTimes);
  const forwardS = median(forwardTimes), restS = median(restTimes);
  const replaySteps = last!.forwardSteps - T;
  // The replays inside the reverse pass are plain training steps, like the forward's (whose
  // time also holds its few probe checks): estimate them at the forward's rate.
  const replayS = (forwardS / T) * replaySteps;
  const reverseS = Math.max(0, restS - replayS);
  const runs = `median of ${reps}`;
  const ratio = metaS / recordS;
  return [
    {
      name: `one query's metagradient, sqrt checkpointing (${label}, T=${T} steps)`,
      unit: "s",
      value: metaS,
      baselineName: `recording the same run (recordRuns, ${s.test.length} test examples probed ` +
        `after every step)`,
      baseline: recordS,
      speedup: recordS / metaS,
      target: "<= 4 recordings' worth (ratio >= 0.25x)",
      notes: `${runs}; ${ratio.toFixed(2)} recordings' worth; ${last!.forwardSteps} training ` +
        `steps computed (T forward + ${replaySteps} replayed), ${last!.reverseSteps} reversed; ` +
        `replay error ${last!.replayError.toExponential(1)}`,
    },
    {
      name: `metagradient phases: forward replay (T=${T} training steps, probes at checkpoints)`,
      unit: "s",
      value: forwardS,
      baselineName: "recording the same run",
      baseline: recordS,
      speedup: recordS / forwardS,
      notes: `${runs}; the share of the metagradient's time: ${
        (forwardS / metaS * 100).toFixed(0)
      }%`,
    },
    {
      name: `metagradient phases: reverse (${T} steps: gradient, AdamW pull-back, tangent pass)`,
      unit: "s",
      value: reverseS,
      baselineName: "recording the same run",
      baseline: recordS,
      speedup: recordS / reverseS,
      notes: `${runs}; ${(reverseS / T * 1000).toFixed(0)} ms per reverse step; the ` +
        `${replaySteps} segment replays, estimated at the forward's rate, take ` +
        `${replayS.toFixed(2)} s more; share of the metagradient's time: ` +
        `${(reverseS / metaS * 100).toFixed(0)}% (replays ${(replayS / metaS * 100).toFixed(0)}%)`,
    },
  ];
}

async function memoryFigures(rt: GpuRuntime, quick: boolean): Promise<BenchFigure[]> {
  const lengths = quick ? [4, 16] : [16, 64];
  const policies: Checkpointing[] = quick ? ["sqrt", "all"] : ["sqrt", "log", "all"];
  // The states held depend on the policy and T only: batches of 1 row (1 test example) keep
  // these runs short; the states' bytes are those of the same model.
  const rows = 1;
  const s = setting(rows);
  // The engine's states are flat buffers in the model's layout (padding included).
  const size = paramLayout(config).total;
  const stateBytes = 3 * 4 * size;
  const mib = (b: number) => b / 2 ** 20;
  const measured = new Map<string, { states: number; steps: number; peak: number }>();
  for (const T of lengths) {
    const options = recordOptions(rt, s, T, rows);
    const plan = planRecording(options);
    const { recorded } = await record(options, plan);
    for (const policy of policies) {
      rt.resetPeakBytes();
      const before = rt.liveBytes;
      const { result } = await metagradient(rt, problemOf(s, plan, recorded, policy));
      measured.set(`${policy}/${T}`, {
        states: result.peakStates,
        steps: result.forwardSteps,
        peak: rt.peakBytes - before,
      });
    }
  }
  const [short, long] = lengths;
  const growth: Record<Checkpointing, string> = {
    sqrt: `√(${long}/${short}) = ${Math.sqrt(long / short).toFixed(1)}x`,
    log: `log₂ ${long} / log₂ ${short} = ${(Math.log2(long) / Math.log2(short)).toFixed(1)}x`,
    all: `${long}/${short} = ${(long / short).toFixed(1)}x`,
  };
  return policies.map((policy) => {
    const a = measured.get(`${policy}/${short}`)!, b = measured.get(`${policy}/${long}`)!;
    return {
      name: `GPU memory in model states, ${policy} checkpointing, T=${long} (L=2 d=${WIDTH}, ` +
        `${size} parameters; batches of ${rows})`,
      unit: "MiB",
      value: mib(b.states * stateBytes),
      baselineName: `the same at T=${short}`,
      baseline: mib(a.states * stateBytes),
      speedup: a.states / b.states,
      target: `grows as ${growth[policy]}`,
      notes:
        `grows ${
          (b.states / a.states).toFixed(1)
        }x; states held: ${a.states} at T=${short}, ${b.states} at T=${long} (each θ, m, v: ` +
        `${mib(stateBytes).toFixed(2)} MiB); training steps computed: ${a.steps} ` +
        `(${(a.steps / short).toFixed(1)} per step) and ${b.steps} ` +
        `(${(b.steps / long).toFixed(1)} per step); whole peak GPU memory of the computation ` +
        `(states, model, optimiser, activations): ${mib(a.peak).toFixed(1)} and ` +
        `${mib(b.peak).toFixed(1)} MiB`,
    };
  });
}

export const metagradientsSuite: BenchSuite = {
  name: "metagradients",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    return [...(await costFigures(rt, quick)), ...(await memoryFigures(rt, quick))];
  },
};
