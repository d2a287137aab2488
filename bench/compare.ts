// `deno task compare [--quick]`: the first seed paper's comparison on builtin:skills with a small
// GPT-2, through the service's own API (in process, on this machine's adapter); `--suite magic`
// runs the single-model comparison of bench/compare_magic.ts instead:
//   1. record a study: fitting runs with checkpoints, held-out runs, and subsample runs for LDS;
//   2. fit Simfluence-Linear, -Additive and -Multiplicative on the fitting runs;
//   3. TracIn-CP over the first fitting run's checkpoints, and EK-FAC influence at its final
//      checkpoint, each turned into a simulator (one fitted scale, MATH §3);
//   4. per method: all-steps MSE and MAE, final-step MSE and Spearman on the held-out runs, and
//      the LDS on the subsample runs.
// It prints the table as Markdown (the README's "Comparison" section).
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config.ts";
import { tuneMatmul } from "../src/gpu/kernels/matmul.ts";
import { gpuFromRuntime } from "../src/gpu/handle.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { JobManager } from "../src/jobs/manager.ts";
import { memoryLogger } from "../src/log.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import { STORE_MODULES } from "../src/store_modules.ts";
import { skillExamples } from "../src/datasets/skills.ts";
import { seededUniform, shuffled } from "../src/random.ts";
import { magicSettings, runMagicComparison } from "./compare_magic.ts";
import { optimizeSettings, runOptimizeComparison } from "./compare_optimize.ts";
import { call, finished, log } from "./in_process_api.ts";
import type { BenchSuite } from "./suite.ts";

interface Settings {
  train: number;
  test: number;
  steps: number;
  fittingRuns: number;
  heldOutRuns: number;
  subsampleRuns: number;
  checkpointEvery: number;
}

const FULL: Settings = {
  train: 128,
  test: 32,
  steps: 64,
  fittingRuns: 10,
  heldOutRuns: 3,
  subsampleRuns: 10,
  checkpointEvery: 16,
};
const QUICK: Settings = {
  train: 32,
  test: 8,
  steps: 12,
  fittingRuns: 4,
  heldOutRuns: 2,
  subsampleRuns: 5,
  checkpointEvery: 4,
};

export interface ComparisonRow {
  method: string;
  allStepsMse: number;
  allStepsMae: number;
  finalStepMse: number;
  finalStepSpearman: number;
  lds: number | null;
}

export async function runComparison(
  quick: boolean,
): Promise<{ markdown: string; rows: ComparisonRow[] }> {
  const s = quick ? QUICK : FULL;
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-compare-" });
  const runtime = await GpuRuntime.create();
  await tuneMatmul(runtime, { cacheFile: `${dataDir}/autotune.json` });
  const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
  const logger = memoryLogger();
  const jobs = new JobManager({ store: store.jobs, logger });
  const app = createApp({
    config: parseConfig({ SIMFLUENCE_DATA_DIR: dataDir }),
    store,
    gpu: gpuFromRuntime(runtime, () => ({})),
    jobs,
    logger,
  });
  const started = performance.now();
  try {
    const model = await call(app, "POST", "/v1/models", {
      config: { vocab_size: 257, n_positions: 24, n_embd: 32, n_layer: 2, n_head: 2 },
      seed: 4321,
    });
    const ids = shuffled(skillExamples().map((e) => e.id), seededUniform(11));
    const trainIds = ids.slice(0, s.train);
    const testIds = ids.slice(s.train, s.train + s.test);
    const dataset = "builtin:skills";
    const record = async (name: string, runs: number, seed: number, extra: object) => {
      const { job } = await call(app, "POST", "/v1/training-runs", {
        study: "compare",
        model: model.id,
        dataset,
        trainExamples: trainIds,
        testExamples: testIds,
        runs,
        steps: s.steps,
        batchSize: 8,
        optimizer: { kind: "adamw", lr: 1e-2, schedule: { warmupSteps: 2, decay: "linear" } },
        seed,
        namePrefix: name,
        ...extra,
      });
      const result = await finished(app, job);
      return (result.runs as { id: string }[]).map((r) => r.id);
    };
    log("recording the study");
    const fitting = await record("fit", s.fittingRuns, 1, { checkpointEvery: s.checkpointEvery });
    const heldOut = await record("held-out", s.heldOutRuns, 1000, {});
    const subsample = await record("subsample", s.subsampleRuns, 2000, {
      curriculum: "subsample",
      subsampleFraction: 0.5,
    });

    const fit = async (body: object) => {
      const { simulator, job } = await call(app, "POST", "/v1/simulators", {
        study: "compare",
        trainRuns: fitting,
        ...body,
      });
      await finished(app, job);
      return simulator.id as string;
    };
    const methods: { name: string; simulator: string }[] = [];
    for (const kind of ["linear", "additive", "multiplicative"]) {
      log(`fitting Simfluence-${kind}`);
      methods.push({
        name: `Simfluence-${kind[0].toUpperCase()}${kind.slice(1)}`,
        simulator: await fit({ kind }),
      });
    }

    log("TracIn-CP over the first fitting run's checkpoints");
    const queries = { dataset, ids: testIds };
    const train = { dataset, ids: trainIds };
    const tracin = await call(app, "POST", "/v1/influence/tracin", {
      run: fitting[0],
      queries,
      train,
    });
    await finished(app, tracin.job);
    methods.push({
      name: "TracIn-CP (as a simulator)",
      simulator: await fit({ kind: "scores", scoreSet: tracin.scores.id }),
    });

    log("EK-FAC at the first fitting run's final checkpoint");
    const checkpoints = await call(app, "GET", `/v1/runs/${fitting[0]}/checkpoints`);
    const last = checkpoints.checkpoints[checkpoints.checkpoints.length - 1].step;
    const weights = await app.request(`/v1/runs/${fitting[0]}/checkpoints/${last}`);
    const form = new FormData();
    form.set("model.safetensors", new File([await weights.arrayBuffer()], "model.safetensors"));
    const trained = await call(app, "POST", "/v1/models", form);
    const factors = await call(app, "POST", "/v1/influence/factors", {
      model: trained.id,
      dataset,
      ids: trainIds,
    });
    await finished(app, factors.job);
    const ekfac = await call(app, "POST", "/v1/influence/scores", {
      factors: factors.factors.id,
      queries,
    });
    await finished(app, ekfac.job);
    methods.push({
      name: "EK-FAC influence (as a simulator)",
      simulator: await fit({ kind: "scores", scoreSet: ekfac.scores.id }),
    });

    const rows: string[] = [];
    const table: ComparisonRow[] = [];
    for (const m of methods) {
      log(`evaluating ${m.name}`);
      const evaluation = await call(app, "POST", `/v1/simulators/${m.simulator}/evaluate`, {
        runs: heldOut,
      });
      const { job } = await call(app, "POST", "/v1/evaluations/lds", {
        study: "compare",
        runs: subsample,
        method: { simulator: m.simulator },
      });
      const lds = await finished(app, job);
      const p = evaluation.pooled;
      table.push({
        method: m.name,
        allStepsMse: p.allStepsMse,
        allStepsMae: p.allStepsMae,
        finalStepMse: p.finalStepMse,
        finalStepSpearman: p.finalStepSpearman,
        lds: lds.lds,
      });
      const f = (v: number | null) => (v === null || !Number.isFinite(v) ? "-" : v.toFixed(4));
      const interval = lds.interval
        ? ` [${lds.interval.lower.toFixed(2)}, ${lds.interval.upper.toFixed(2)}]`
        : "";
      rows.push(
        `| ${m.name} | ${f(p.allStepsMse)} | ${f(p.allStepsMae)} | ${f(p.finalStepMse)} | ` +
          `${f(p.finalStepSpearman)} | ${f(lds.lds)}${interval} |`,
      );
    }
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    const device = runtime.gpu.describe();
    const markdown = [
      `builtin:skills, GPT-2 2 layers × width 32 (byte tokenizer), ${s.train} training and ` +
      `${s.test} test examples, ${s.steps} AdamW steps of batch 8 per run; ${s.fittingRuns} ` +
      `fitting runs (shuffled, checkpoints every ${s.checkpointEvery} steps), ${s.heldOutRuns} ` +
      `held-out runs, ${s.subsampleRuns} runs on random halves of the training set for the LDS. ` +
      `${device.description || device.vendor}, ${minutes} min.`,
      "",
      "| method | all-steps MSE | all-steps MAE | final-step MSE | final-step Spearman | LDS [95 % CI] |",
      "| --- | --- | --- | --- | --- | --- |",
      ...rows,
    ].join("\n");
    return { markdown, rows: table };
  } finally {
    await jobs.shutdown(2_000);
    store.close();
    runtime.close();
    await Deno.remove(dataDir, { recursive: true });
  }
}

/** The comparison as a bench suite (`deno task bench --suite compare`): LDS and Spearman per method. */
export const compareSuite: BenchSuite = {
  name: "compare",
  onlyWhenNamed: true,
  async run(_rt, { quick }) {
    const { rows } = await runComparison(quick);
    const linear = rows[0];
    return rows.flatMap((r) => [
      {
        name: `compare: ${r.method}, final-step Spearman (held-out runs)`,
        unit: "ρ",
        value: r.finalStepSpearman,
        baselineName: r === linear ? null : "Simfluence-Linear",
        baseline: r === linear ? null : linear.finalStepSpearman,
        speedup: r === linear ? null : r.finalStepSpearman / linear.finalStepSpearman,
      },
      {
        name: `compare: ${r.method}, LDS (subsample runs)`,
        unit: "LDS",
        value: r.lds ?? NaN,
        baselineName: null,
        baseline: null,
        speedup: null,
      },
    ]);
  },
};

if (import.meta.main) {
  // `--suite magic` (or `--magic`): the single-model setting, MAGIC against the others
  // (bench/compare_magic.ts); its set-up flags pass through.
  const suite = Deno.args.indexOf("--suite");
  if (Deno.args.includes("--magic") || (suite >= 0 && Deno.args[suite + 1] === "magic")) {
    console.log((await runMagicComparison(magicSettings(Deno.args))).markdown);
  } else if (suite >= 0 && Deno.args[suite + 1] === "optimize") {
    // Curriculum optimisation, each method verified by training (bench/compare_optimize.ts).
    console.log((await runOptimizeComparison(optimizeSettings(Deno.args))).markdown);
  } else {
    console.log((await runComparison(Deno.args.includes("--quick"))).markdown);
  }
}
