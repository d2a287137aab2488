// `deno task compare --suite optimize [--quick]`: curriculum optimisation (POST
// /v1/curricula/optimize) on builtin:skills with a 2-layer GPT-2, through the service's own API in
// process on this machine's adapter, each method verified by training:
//   1. record the study: one base run (its curriculum is the study's own) and mask runs of it that
//      keep a random half of its examples (what the simulator is fitted on);
//   2. fit a Simfluence simulator on them; MAGIC scores of the objective's tests on the base run
//      (the scores baseline's score set);
//   3. per method (simulator, scores, metagradient): keep half of the base run's examples for the
//      test examples of one skill, and verify with R runs on random halves.
// It prints the set-up and a Markdown table: predicted gain, observed gain with its bootstrap 95 %
// interval, how many of the target skill's examples were kept, and time. `bench --suite optimize`
// measures the simulator search's curricula evaluated per second beside single rollouts.
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { SKILLS } from "../src/datasets/skills.ts";
import { call, finished, inProcessService, type Json, log } from "./in_process_api.ts";

export type OptimizeMethodName = "simulator" | "scores" | "metagradient";

export interface OptimizeSettings {
  /** Training / test examples per skill (ids <skill>-0… and <skill>-200…). */
  trainPerSkill: number;
  testPerSkill: number;
  /** The skill whose test examples are the objective. */
  target: string;
  steps: number;
  batch: number;
  lr: number;
  epsRoot: number;
  width: number;
  /** Mask runs of the base run (a random half of its examples weighted 0) the simulator fits. */
  fitRuns: number;
  simulatorKind: "linear" | "additive";
  iterations: number;
  verifyRuns: number;
  methods: OptimizeMethodName[];
  seed: number;
}

/**
 * The size: 2 layers, dropFraction 0.5, R = 8. epsRoot 1e-4 smooths AdamW as
 * compare_magic.ts does: with 1e-8 the first full run's metagradients were meaningless (predicted
 * gain 489) and no method beat random halves (simulator −0.060 [−0.098, −0.021], scores −0.008
 * [−0.046, 0.031], metagradient +0.002 [−0.036, 0.040]); with 1e-4, simulator +0.090
 * [0.051, 0.125], metagradient +0.101 [0.062, 0.136] and scores +0.247 [0.207, 0.282].
 */
export const OPTIMIZE_FULL: OptimizeSettings = {
  trainPerSkill: 16,
  testPerSkill: 8,
  target: "sort",
  steps: 32,
  batch: 16,
  lr: 0.01,
  epsRoot: 1e-4,
  width: 32,
  fitRuns: 32,
  simulatorKind: "additive",
  iterations: 4,
  verifyRuns: 8,
  methods: ["simulator", "scores", "metagradient"],
  seed: 0,
};

/** Verified at epsRoot 1e-8 (tests/curricula/acceptance.test.ts). */
export const OPTIMIZE_QUICK: OptimizeSettings = {
  ...OPTIMIZE_FULL,
  epsRoot: 1e-8,
  trainPerSkill: 8,
  testPerSkill: 6,
  steps: 16,
  batch: 8,
  width: 16,
  fitRuns: 16,
  iterations: 3,
};

/** tests/curricula/acceptance.test.ts: the quick size without the scores baseline's MAGIC. */
export const OPTIMIZE_TEST: OptimizeSettings = {
  ...OPTIMIZE_QUICK,
  methods: ["simulator", "metagradient"],
};

export interface OptimizeRow {
  method: OptimizeMethodName;
  /** How many of the target skill's training examples the chosen half kept (of trainPerSkill). */
  keptTarget: number;
  predictedGain: number | null;
  observedGain: number;
  lower: number;
  upper: number;
  optimized: number;
  randomMean: number;
  /** Seconds of the search (its score set included for scores) and of the whole job. */
  searchSeconds: number;
  seconds: number;
}

export interface OptimizeComparison {
  settings: OptimizeSettings;
  rows: OptimizeRow[];
  studySeconds: number;
  markdown: string;
}

const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const out = await f();
  return [out, (performance.now() - t0) / 1000];
};

const fixed = (v: number | null, digits = 3) => (v === null ? "–" : v.toFixed(digits));

function markdown(c: Omit<OptimizeComparison, "markdown">): string {
  const s = c.settings;
  const lines = [
    `builtin:skills, 2 layers × width ${s.width}, ${SKILLS.length}×${s.trainPerSkill} training ` +
    `and ${SKILLS.length}×${s.testPerSkill} test examples, ${s.steps} AdamW steps of ${s.batch} ` +
    `(lr ${s.lr}, epsRoot ${s.epsRoot}); objective: the final loss of the ${s.testPerSkill} "${s.target}" test examples; ` +
    `dropFraction 0.5; verified with R = ${s.verifyRuns} random halves; simulator ` +
    `${s.simulatorKind} fitted on the base run and ${s.fitRuns} mask runs keeping half; study recorded in ` +
    `${c.studySeconds.toFixed(0)} s`,
    "",
    "| method | kept of the target skill | predicted gain | observed gain [95 % interval] | " +
    "time (search / total) |",
    "| --- | --- | --- | --- | --- |",
    ...c.rows.map((r) =>
      `| ${r.method} | ${r.keptTarget} / ${s.trainPerSkill} | ${fixed(r.predictedGain)} | ` +
      `${fixed(r.observedGain)} [${fixed(r.lower)}, ${fixed(r.upper)}] | ` +
      `${r.searchSeconds.toFixed(1)} s / ${r.seconds.toFixed(0)} s |`
    ),
  ];
  return lines.join("\n");
}

/**
 * The comparison at settings `s`. With `shared`, on that runtime (a test's), which it neither tunes
 * nor closes; else on a runtime of its own, with matmul tuned (cached per machine).
 */
export async function runOptimizeComparison(
  s: OptimizeSettings,
  shared?: GpuRuntime,
): Promise<OptimizeComparison> {
  const service = await inProcessService("simfluence-compare-optimize-", shared);
  const { app } = service;
  try {
    const model = (await call(app, "POST", "/v1/models", {
      name: "optimize",
      seed: 1,
      config: { vocab_size: 257, n_positions: 24, n_embd: s.width, n_layer: 2, n_head: 2 },
    })).id;
    const train = SKILLS.flatMap((k) =>
      Array.from({ length: s.trainPerSkill }, (_, i) => `${k}-${i}`)
    );
    const tests = SKILLS.flatMap((k) =>
      Array.from({ length: s.testPerSkill }, (_, i) => `${k}-${200 + i}`)
    );
    const objective = tests.filter((id) => id.startsWith(`${s.target}-`));
    const optimizer = { kind: "adamw", lr: s.lr, epsRoot: s.epsRoot };
    const record = async (body: Json): Promise<string[]> => {
      const { job } = await call(app, "POST", "/v1/training-runs", {
        study: "optimize",
        model,
        dataset: "builtin:skills",
        trainExamples: train,
        testExamples: tests,
        steps: s.steps,
        optimizer,
        ...body,
      });
      return (await finished(app, job)).runs.map((r: Json) => r.id);
    };
    const [[base, ...fitting], studySeconds] = await timed(async () => {
      log("recording the base run and the mask runs the simulator is fitted on");
      const [base] = await record({
        runs: 1,
        batchSize: s.batch,
        seed: s.seed + 3,
        namePrefix: "base",
      });
      // Mask runs of the base run keeping a random half: the setting the optimisation searches.
      const masks = await call(app, "POST", "/v1/training-runs", {
        study: "optimize",
        curriculum: { kind: "mask", baseRun: base, dropFraction: 0.5 },
        runs: s.fitRuns,
        seed: s.seed + 100,
        namePrefix: "mask",
      });
      const fitting = (await finished(app, masks.job)).runs.map((r: Json) => r.id as string);
      return [base, ...fitting];
    });
    const rows: OptimizeRow[] = [];
    for (const method of s.methods) {
      const [row, seconds] = await timed(async () => {
        let prepare = 0;
        let spec: Json;
        if (method === "simulator") {
          const validation = Math.max(1, Math.round(fitting.length / 8));
          const [sim, fitSeconds] = await timed(async () => {
            const fit = await call(app, "POST", "/v1/simulators", {
              study: "optimize",
              kind: s.simulatorKind,
              trainRuns: [base, ...fitting.slice(0, fitting.length - validation)],
              validationRuns: fitting.slice(fitting.length - validation),
            });
            await finished(app, fit.job);
            return fit.simulator.id;
          });
          prepare = fitSeconds;
          spec = { simulator: sim };
        } else if (method === "scores") {
          const [set, magicSeconds] = await timed(async () => {
            const started = await call(app, "POST", "/v1/influence/metagradients", {
              run: base,
              queries: { dataset: "builtin:skills", ids: objective },
            });
            await finished(app, started.job);
            return started.scores.id;
          });
          prepare = magicSeconds;
          spec = { scores: set };
        } else {
          spec = { metagradient: { run: base, iterations: s.iterations } };
        }
        log(`optimising by ${method}`);
        const started = await call(app, "POST", "/v1/curricula/optimize", {
          study: "optimize",
          objective: { tests: objective },
          budget: { dropFraction: 0.5 },
          baseRun: base,
          method: spec,
          seed: s.seed,
          verify: { runs: s.verifyRuns },
        });
        await finished(app, started.job);
        const done = await call(
          app,
          "GET",
          `/v1/curricula/optimizations/${started.optimization.id}`,
        );
        const observed = done.verification.observed;
        return {
          method,
          keptTarget: done.result.curriculum.kept.filter((id: string) =>
            id.startsWith(`${s.target}-`)
          )
            .length,
          predictedGain: done.result.predicted.improvement,
          observedGain: observed.improvement,
          lower: observed.interval.lower,
          upper: observed.interval.upper,
          optimized: observed.optimized,
          randomMean: observed.randomMean,
          searchSeconds: prepare + done.result.seconds,
          seconds: 0,
        } satisfies OptimizeRow;
      });
      rows.push({ ...row, seconds });
      log(`${method}: ${JSON.stringify(rows.at(-1))}`);
    }
    const comparison = { settings: s, rows, studySeconds };
    return { ...comparison, markdown: markdown(comparison) };
  } finally {
    await service.close();
  }
}

/** --quick, --target SKILL, --eps-root X, --methods a,b (for trying set-ups). */
export function optimizeSettings(args: readonly string[]): OptimizeSettings {
  const s = { ...(args.includes("--quick") ? OPTIMIZE_QUICK : OPTIMIZE_FULL) };
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  s.target = value("--target") ?? s.target;
  if (value("--eps-root") !== undefined) s.epsRoot = Number(value("--eps-root"));
  const methods = value("--methods");
  if (methods) s.methods = methods.split(",") as OptimizeMethodName[];
  return s;
}
