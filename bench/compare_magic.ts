// `deno task compare --suite magic [--quick]`: attribution in the single-model setting (MATH.md §7
// "LDS in this setting"), through the service's own API, in process on this machine's adapter:
//   1. record one base run on builtin:skills (AdamW, checkpoints for TracIn);
//   2. record mask runs over it (its batches, a seeded fraction of its ids weighted 0): one set at
//      dropFraction 0.02 and one at 0.1 for the LDS, and a separate set at 0.1 (another seed) to
//      fit Simfluence-Linear on;
//   3. MAGIC (POST /v1/influence/metagradients on the base run, queries = the test examples), EK-FAC
//      at the base run's final weights, TracIn over its checkpoints, Simfluence-Linear;
//   4. each method's LDS on both sets (POST /v1/evaluations/lds with baseRun).
// It prints the set-up and a Markdown table (docs/benchmarks.md's method comparison). Set-up flags
// (--train, --test, --steps, --batch, --lr, --beta1, --beta2, --eps, --eps-root, --masks,
// --fit-masks, --width) override the defaults, for trying set-ups.
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { skillExamples } from "../src/datasets/skills.ts";
import { seededUniform, shuffled } from "../src/random.ts";
import { call, finished, inProcessService, log } from "./in_process_api.ts";
import type { BenchSuite } from "./suite.ts";

export interface MagicSettings {
  train: number;
  test: number;
  steps: number;
  batch: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  epsRoot: number;
  /** Mask runs per LDS fraction. */
  masks: number;
  /** Mask runs (at 0.1, another seed) that Simfluence-Linear is fitted on. */
  fitMasks: number;
  checkpointEvery: number;
  width: number;
  /** Only MAGIC (for trying set-ups quickly; the table then lacks the other methods). */
  magicOnly?: boolean;
}

/**
 * The full suite's set-up, chosen for smoothness: epsRoot 1e-4 under AdamW's square root (the
 * update is then close to linear in the gradient wherever v̂ is small), with lr 1e-2 to keep the
 * training moving. With epsRoot 1e-6 and lr 3e-3, MAGIC's LDS was 0.64 / 0.59 at the quick size.
 */
export const MAGIC_FULL: MagicSettings = {
  train: 100,
  test: 8,
  steps: 12,
  batch: 25,
  lr: 1e-2,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  epsRoot: 1e-4,
  masks: 50,
  fitMasks: 10,
  checkpointEvery: 4,
  width: 32,
};

/** `--quick`: a few minutes. */
export const MAGIC_QUICK: MagicSettings = {
  ...MAGIC_FULL,
  train: 50,
  test: 4,
  steps: 8,
  batch: 16,
  masks: 10,
  fitMasks: 6,
  checkpointEvery: 2,
};

/** tests/metagradients/lds.test.ts: small enough for CI on a CPU adapter. */
export const MAGIC_TEST: MagicSettings = {
  ...MAGIC_QUICK,
  train: 40,
  test: 3,
  steps: 6,
  masks: 8,
  fitMasks: 5,
  checkpointEvery: 3,
};

export const FRACTIONS = [0.02, 0.1] as const;

export interface MagicRow {
  method: string;
  /** LDS and its 95 % interval per drop fraction, in FRACTIONS' order. */
  lds: ({ lds: number | null; lower: number; upper: number } | null)[];
  /** Seconds the method's attribution took (its jobs), and in base-run recordings. */
  seconds: number;
}

export interface MagicComparison {
  settings: MagicSettings;
  rows: MagicRow[];
  /** Seconds to record the base run, and per mask run (mean). */
  baseRunSeconds: number;
  maskRunSeconds: number;
  markdown: string;
}

const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
  const t0 = performance.now();
  const out = await f();
  return [out, (performance.now() - t0) / 1000];
};

/**
 * The comparison at settings `s`. With `shared`, on that runtime (a test's), which it neither tunes
 * nor closes; else on a runtime of its own, with matmul tuned (cached per machine).
 */
export async function runMagicComparison(
  s: MagicSettings,
  shared?: GpuRuntime,
): Promise<MagicComparison> {
  const service = await inProcessService("simfluence-compare-magic-", shared);
  const { app, runtime } = service;
  const started = performance.now();
  const study = "magic";
  try {
    const model = await call(app, "POST", "/v1/models", {
      config: { vocab_size: 257, n_positions: 24, n_embd: s.width, n_layer: 2, n_head: 2 },
      seed: 4321,
    });
    const ids = shuffled(skillExamples().map((e) => e.id), seededUniform(11));
    const trainIds = ids.slice(0, s.train);
    const testIds = ids.slice(s.train, s.train + s.test);
    const dataset = "builtin:skills";
    const record = async (body: object) => {
      const { job } = await call(app, "POST", "/v1/training-runs", { study, ...body });
      return ((await finished(app, job)).runs as { id: string }[]).map((r) => r.id);
    };
    log("recording the base run");
    const [[base], baseRunSeconds] = await timed(() =>
      record({
        model: model.id,
        dataset,
        trainExamples: trainIds,
        testExamples: testIds,
        runs: 1,
        steps: s.steps,
        batchSize: s.batch,
        optimizer: {
          kind: "adamw",
          lr: s.lr,
          beta1: s.beta1,
          beta2: s.beta2,
          eps: s.eps,
          epsRoot: s.epsRoot,
          weightDecay: 0,
        },
        seed: 1,
        checkpointEvery: s.checkpointEvery,
        namePrefix: "base",
      })
    );
    const baseJson = await call(app, "GET", `/v1/runs/${base}?format=json`);
    const meanLoss = (row: number[]) => row.reduce((a, b) => a + b, 0) / row.length;
    const lossFrom = meanLoss(baseJson.losses[0]);
    const lossTo = meanLoss(baseJson.losses[baseJson.losses.length - 1]);
    const masks = async (fraction: number, runs: number, seed: number, name: string) =>
      await record({
        curriculum: { kind: "mask", baseRun: base, dropFraction: fraction },
        runs,
        seed,
        namePrefix: name,
      });
    const ldsRuns: string[][] = [];
    let maskSeconds = 0;
    for (const [k, fraction] of FRACTIONS.entries()) {
      log(`recording ${s.masks} mask runs at dropFraction ${fraction}`);
      const [runs, seconds] = await timed(() => masks(fraction, s.masks, 100 + k, `mask-${k}`));
      ldsRuns.push(runs);
      maskSeconds += seconds;
    }
    log(`recording ${s.fitMasks} mask runs at 0.1 to fit Simfluence-Linear on`);
    const [fitRuns, fitSeconds] = await timed(() => masks(0.1, s.fitMasks, 900, "fit"));
    maskSeconds += fitSeconds;

    const queries = { dataset, ids: testIds };
    const methods: { name: string; method: object; seconds: number }[] = [];
    const scoreJob = async (path: string, body: object) => {
      const answer = await call(app, "POST", path, body);
      await finished(app, answer.job);
      return answer.scores.id as string;
    };
    log("MAGIC: metagradients of the base run");
    const [magic, magicSeconds] = await timed(() =>
      scoreJob("/v1/influence/metagradients", { run: base, queries })
    );
    methods.push({
      name: "MAGIC (metagradients)",
      method: { scores: magic },
      seconds: magicSeconds,
    });

    const others = async () => {
      log("EK-FAC at the base run's final weights");
      const [ekfac, ekfacSeconds] = await timed(async () => {
        const factors = await call(app, "POST", "/v1/influence/factors", {
          run: base,
          step: s.steps,
          dataset,
          ids: trainIds,
        });
        await finished(app, factors.job);
        return await scoreJob("/v1/influence/scores", { factors: factors.factors.id, queries });
      });
      methods.push({
        name: "EK-FAC (final weights)",
        method: { scores: ekfac },
        seconds: ekfacSeconds,
      });

      log("TracIn over the base run's checkpoints");
      const [tracin, tracinSeconds] = await timed(() =>
        scoreJob("/v1/influence/tracin", { run: base, queries, train: { dataset, ids: trainIds } })
      );
      methods.push({
        name: "TracIn-CP (checkpoints)",
        method: { scores: tracin },
        seconds: tracinSeconds,
      });

      log("fitting Simfluence-Linear on the separate mask runs");
      const [linear, linearSeconds] = await timed(async () => {
        const { simulator, job } = await call(app, "POST", "/v1/simulators", {
          study,
          trainRuns: fitRuns,
          kind: "linear",
        });
        await finished(app, job);
        return simulator.id as string;
      });
      methods.push({
        name: "Simfluence-Linear (fitted on other mask runs)",
        method: { simulator: linear },
        seconds: linearSeconds,
      });
    };
    if (!s.magicOnly) await others();

    const rows: MagicRow[] = [];
    for (const m of methods) {
      const lds = [];
      for (const runs of ldsRuns) {
        const { job } = await call(app, "POST", "/v1/evaluations/lds", {
          study,
          runs,
          baseRun: base,
          method: m.method,
        });
        const result = await finished(app, job);
        lds.push(
          result.interval ? { lds: result.lds, ...result.interval } : null,
        );
      }
      rows.push({ method: m.name, lds, seconds: m.seconds });
      log(`${m.name}: LDS ${lds.map((v) => v?.lds?.toFixed(3)).join(" / ")}`);
    }
    const maskRunSeconds = maskSeconds / (2 * s.masks + s.fitMasks);
    const unit = maskRunSeconds;
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    const device = runtime.gpu.describe();
    const cell = (v: MagicRow["lds"][number]) =>
      v && v.lds !== null
        ? `${v.lds.toFixed(3)} [${v.lower.toFixed(2)}, ${v.upper.toFixed(2)}]`
        : "-";
    const markdown = [
      `builtin:skills, GPT-2 2 layers × width ${s.width} (byte tokenizer), ${s.train} training ` +
      `and ${s.test} test examples. One base run: ${s.steps} AdamW steps of batch ${s.batch}, ` +
      `lr ${s.lr} (constant), β₁ ${s.beta1}, β₂ ${s.beta2}, eps ${s.eps}, epsRoot ${s.epsRoot}, ` +
      `no weight decay, no clipping, checkpoints every ${s.checkpointEvery} steps; its mean ` +
      `test loss falls from ${lossFrom.toFixed(3)} to ${lossTo.toFixed(3)}. ` +
      `${s.masks} mask runs at dropFraction ${FRACTIONS[0]} and ${s.masks} at ${FRACTIONS[1]} ` +
      `for the LDS; Simfluence-Linear fitted on ${s.fitMasks} other mask runs at 0.1. ` +
      `Recording takes ${maskRunSeconds.toFixed(1)} s per mask run (mean; the first run, the ` +
      `base, ${baseRunSeconds.toFixed(1)} s, compiling the kernels); "time" is each ` +
      `method's jobs, and in mask runs' worth. ${device.description || device.vendor}, ` +
      `${minutes} min in all.`,
      "",
      `| method | LDS [95 % CI], drop ${FRACTIONS[0]} | LDS [95 % CI], drop ${FRACTIONS[1]} | ` +
      "time (s; × one training run) |",
      "| --- | --- | --- | --- |",
      ...rows.map((r) =>
        `| ${r.method} | ${cell(r.lds[0])} | ${cell(r.lds[1])} | ${r.seconds.toFixed(1)} ` +
        `(${(r.seconds / unit).toFixed(1)}×) |`
      ),
    ].join("\n");
    return { settings: s, rows, baseRunSeconds, maskRunSeconds, markdown };
  } finally {
    await service.close();
  }
}

const FLAGS: Record<string, keyof MagicSettings> = {
  "--train": "train",
  "--test": "test",
  "--steps": "steps",
  "--batch": "batch",
  "--lr": "lr",
  "--beta1": "beta1",
  "--beta2": "beta2",
  "--eps": "eps",
  "--eps-root": "epsRoot",
  "--masks": "masks",
  "--fit-masks": "fitMasks",
  "--checkpoint-every": "checkpointEvery",
  "--width": "width",
};

/** The settings of `--quick` or the full suite, with any set-up flags applied. */
export function magicSettings(args: readonly string[]): MagicSettings {
  const s = { ...(args.includes("--quick") ? MAGIC_QUICK : MAGIC_FULL) };
  if (args.includes("--magic-only")) s.magicOnly = true;
  for (let i = 0; i < args.length; i++) {
    const key = FLAGS[args[i]];
    if (!key) continue;
    const value = Number(args[++i]);
    if (!Number.isFinite(value)) throw new Error(`${args[i - 1]} needs a number`);
    (s as Record<string, unknown>)[key] = value;
  }
  return s;
}

/** The comparison as a bench suite (`deno task bench --suite compare-magic`): LDS per method. */
export const compareMagicSuite: BenchSuite = {
  name: "compare-magic",
  onlyWhenNamed: true,
  async run(rt, { quick }) {
    const { rows } = await runMagicComparison(quick ? MAGIC_QUICK : MAGIC_FULL, rt);
    return rows.flatMap((r) =>
      FRACTIONS.map((fraction, k) => ({
        name: `compare-magic: ${r.method}, LDS (mask runs, drop ${fraction})`,
        unit: "LDS",
        value: r.lds[k]?.lds ?? NaN,
        baselineName: null,
        baseline: null,
        speedup: null,
      }))
    );
  },
};

if (import.meta.main) {
  const s = magicSettings(Deno.args);
  console.log((await runMagicComparison(s)).markdown);
}
