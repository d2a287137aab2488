// The run recorder against independent recomputation with Gpt2Model: losses before training and
// after every step, reproducibility, learning, divergence, checkpoints, abort, and a recorded run
// fed to the Simfluence fit.
import assert from "node:assert/strict";
import { assertClose as assertCloseTo, unitScale } from "../../src/gpu/reference/compare.ts";
import type { DatasetExample } from "../../src/datasets/example.ts";
import { toApiError } from "../../src/http/api_error.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import type { OptimizerConfigInput } from "../../src/gpt2/optimizer.ts";
import { initParams, loadParams, type ParamSet } from "../../src/gpt2/params.ts";
import { BYTE_VOCAB_SIZE } from "../../src/text/byte_tokenizer.ts";
import { validateRunInput } from "../../src/runs/run_input.ts";
import { fitSimulator } from "../../src/simfluence/math/fit.ts";
import type { Run } from "../../src/simfluence/math/types.ts";
import { buildBatch, encodeExample } from "../../src/training/encode.ts";
import { TrainingDivergedError, TrainingInputError } from "../../src/training/errors.ts";
import {
  planRecording,
  type RecordedRun,
  recordRuns,
  type RecordRunsOptions,
} from "../../src/training/recorder.ts";
import { byteTokenizer } from "../../src/text/tokenizer.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const config = parseGpt2Config({
  vocab_size: BYTE_VOCAB_SIZE,
  n_positions: 12,
  n_embd: 32,
  n_layer: 2,
  n_head: 2,
});
const base = initParams(config, 42);

/** "x>" then the next 2 + x mod 3 digits (mod 10): learnable, and of varying lengths. */
function counting(id: string, x: number): DatasetExample {
  const length = 2 + (x % 3);
  const run = Array.from({ length }, (_, i) => String((x + 1 + i) % 10)).join("");
  return { id, prompt: `${x}>`, completion: run };
}

const train = Array.from({ length: 24 }, (_, i) => counting(`tr-${i}`, i % 10));
// Plain text among the test examples covers the other label kind.
const test: DatasetExample[] = [
  counting("te-0", 3),
  counting("te-1", 7),
  counting("te-2", 0),
  counting("te-3", 5),
  { id: "te-text", text: "4>567" },
];

const adamw: OptimizerConfigInput = {
  kind: "adamw",
  lr: 1e-2,
  weightDecay: 0.01,
  maxGradNorm: 1,
  schedule: { warmupSteps: 2, decay: "cosine", minLrRatio: 0.1 },
};

async function options(overrides: Partial<RecordRunsOptions> = {}): Promise<RecordRunsOptions> {
  return {
    runtime: await testRuntime(),
    config,
    baseParams: base,
    tokenizer: byteTokenizer,
    trainExamples: train,
    testExamples: test,
    study: "s",
    runs: 2,
    steps: 5,
    batchSize: 4,
    optimizer: adamw,
    curriculum: { kind: "shuffle" },
    seed: 9,
    ...overrides,
  };
}

async function collect(o: RecordRunsOptions): Promise<RecordedRun[]> {
  const out: RecordedRun[] = [];
  for await (const r of recordRuns(o)) out.push(r);
  return out;
}

/** Each test example's loss from its own unpadded forward. */
async function directLosses(model: Gpt2Model): Promise<number[]> {
  const out: number[] = [];
  for (const e of test) {
    const batch = buildBatch([encodeExample(e, byteTokenizer, config)]);
    out.push((await model.forward(batch)).perExample[0]);
  }
  return out;
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  what: string,
) {
  assertCloseTo(actual, expected, { rel: tol, scale: unitScale(expected) }, what);
}

Deno.test("recorded losses match an independent replay with Gpt2Model", gpuTest, async () => {
  const rt = await testRuntime();
  const runs = await collect(await options());
  assert.equal(runs.length, 2);
  const m = test.length;
  const byId = new Map(train.map((e) => [e.id, encodeExample(e, byteTokenizer, config)]));
  for (const { index, run, stats } of runs) {
    validateRunInput(run);
    assert.deepEqual(run.testExamples, test.map((e) => e.id));
    assert.equal(run.steps.length, 5);
    assert.equal(run.losses.length, 6 * m);
    assert.ok(stats.tokensPerSecond > 0 && Number.isFinite(stats.finalTrainLoss));
    // Replay: a fresh model and optimiser, unpadded batches of the recorded ids.
    const model = Gpt2Model.create(rt, base);
    const optimizer = model.createOptimizer({
      ...adamw,
      schedule: { ...adamw.schedule, totalSteps: 5 },
    });
    try {
      assertClose(run.losses.subarray(0, m), await directLosses(model), 1e-5, `run ${index} row 0`);
      for (let t = 1; t <= run.steps.length; t++) {
        const step = run.steps[t - 1];
        const result = await model.trainStep(
          buildBatch(step.batch.map((id) => byId.get(id)!)),
          optimizer,
        );
        assert.equal(step.lr, result.lr);
        assertClose(
          run.losses.subarray(t * m, (t + 1) * m),
          await directLosses(model),
          1e-5,
          `run ${index} row ${t}`,
        );
        if (t === run.steps.length) {
          assertClose([stats.finalTrainLoss], [result.loss], 1e-5, "train loss");
        }
      }
    } finally {
      optimizer.dispose();
      model.dispose();
    }
  }
  // The two runs saw different batches, and so have different losses after step 1.
  assert.notDeepEqual(runs[0].run.steps, runs[1].run.steps);
  assert.notDeepEqual(runs[0].run.losses.subarray(m), runs[1].run.losses.subarray(m));
});

Deno.test("one readback per recorded step, however many evaluation chunks", gpuTest, async () => {
  const rt = await testRuntime();
  const read = rt.read;
  let reads = 0;
  rt.read = (tensors) => {
    reads++;
    return read.call(rt, tensors);
  };
  try {
    // Three evaluation chunks (2 + 2 + 1 test examples) per step; row 0 is read once too.
    const runs = await collect(await options({ runs: 2, steps: 3, evalBatchSize: 2 }));
    assert.equal(runs.length, 2);
    assert.equal(reads, 1 + 2 * 3);
  } finally {
    rt.read = read;
  }
});

Deno.test("the same seed records identical runs", gpuTest, async () => {
  const o = await options({
    runs: 1,
    steps: 3,
    curriculum: { kind: "subsample", subsampleFraction: 0.5 },
  });
  const [a] = await collect(o);
  const [b] = await collect(o);
  assert.deepEqual(a.run.steps, b.run.steps);
  assert.deepEqual(a.run.losses, b.run.losses);
  const [c] = await collect({ ...o, seed: o.seed + 1 });
  assert.notDeepEqual(c.run.steps, a.run.steps);
});

Deno.test("test losses fall on a learnable task", gpuTest, async () => {
  const progress: number[] = [];
  const [{ run, stats }] = await collect(
    await options({
      runs: 1,
      steps: undefined,
      epochs: 20,
      batchSize: 8,
      optimizer: { ...adamw, lr: 2e-2, beta2: 0.98 },
      onProgress: (p) => progress.push(p.step),
    }),
  );
  const m = test.length;
  const T = run.steps.length;
  assert.equal(T, 60);
  assert.deepEqual(progress, Array.from({ length: T }, (_, i) => i + 1));
  const row = (t: number) => Array.from(run.losses.subarray(t * m, (t + 1) * m));
  const completions = test.map((e, j) => ("prompt" in e ? j : -1)).filter((j) => j >= 0);
  const meanOf = (values: number[]) => values.reduce((a, b) => a + b) / values.length;
  const before = meanOf(completions.map((j) => row(0)[j]));
  const after = meanOf(completions.map((j) => row(T)[j]));
  assert.ok(before > 5, `initial loss ${before} should be near ln 257`);
  // Below ln(10)/2: more than knowing that some digit follows.
  assert.ok(after < Math.log(10) / 2, `mean completion loss ${before} → ${after}`);
  for (const j of completions) assert.ok(row(T)[j] < row(0)[j] / 2, `test example ${j}`);
  assert.ok(stats.finalTrainLoss < 1, `final train loss ${stats.finalTrainLoss}`);
  // The text example's first label is '>' after a digit, which training never counted (it is
  // in the prompts), so it stays the worst predicted.
  const text = test.findIndex((e) => e.id === "te-text");
  assert.ok(completions.every((j) => row(T)[j] < row(T)[text]), `${row(T)}`);
});

Deno.test("a diverging run stops with the run and step", gpuTest, async () => {
  const o = await options({ optimizer: { kind: "sgd", lr: 1e30 } });
  const seen: number[] = [];
  await assert.rejects(
    collect({ ...o, onProgress: (p) => seen.push(p.step) }),
    (e: unknown) => {
      assert.ok(e instanceof TrainingDivergedError, String(e));
      assert.equal(e.run, 0);
      assert.equal(e.step, 1);
      assert.equal(toApiError(e)?.status, 422);
      return true;
    },
  );
  assert.deepEqual(seen, [], "no progress is reported for the diverged step");
});

Deno.test("checkpoints come at multiples of checkpointEvery and load back", gpuTest, async () => {
  const rt = await testRuntime();
  const saved: { run: number; step: number; params: ParamSet }[] = [];
  const runs = await collect(
    await options({
      checkpointEvery: 2,
      onCheckpoint: (run, step, bytes) => {
        saved.push({ run, step, params: loadParams(bytes, config) });
      },
    }),
  );
  assert.deepEqual(saved.map((s) => [s.run, s.step]), [[0, 2], [0, 4], [1, 2], [1, 4]]);
  const m = test.length;
  // The saved weights reproduce the losses recorded at that step.
  for (const { run, step, params } of saved) {
    const model = Gpt2Model.create(rt, params);
    try {
      assertClose(
        await directLosses(model),
        runs[run].run.losses.subarray(step * m, (step + 1) * m),
        1e-5,
        `checkpoint ${run}/${step}`,
      );
    } finally {
      model.dispose();
    }
  }
});

Deno.test("abort stops at the next step", gpuTest, async () => {
  const controller = new AbortController();
  const steps: number[] = [];
  const o = await options({
    signal: controller.signal,
    onProgress: (p) => {
      steps.push(p.step);
      if (p.step === 2) controller.abort();
    },
  });
  await assert.rejects(collect(o), (e: unknown) => (e as Error).name === "AbortError");
  assert.deepEqual(steps, [1, 2]);
});

Deno.test(
  "explicit batches of mixed sizes; evaluation chunking does not change losses",
  gpuTest,
  async () => {
    const batches = [["tr-0"], ["tr-1", "tr-2", "tr-3", "tr-4", "tr-5"], ["tr-6", "tr-6"]];
    const o = await options({ steps: undefined, curriculum: { batches } });
    const whole = await collect(o); // rows = 5: the five test examples fit one chunk
    const pairs = await collect({ ...o, evalBatchSize: 2 }); // three chunks, the last one padded
    assert.equal(whole.length, 2);
    for (const runs of [whole, pairs]) {
      for (const { run } of runs) assert.deepEqual(run.steps.map((s) => s.batch), batches);
    }
    // Both runs follow the same batches from the same weights.
    assert.deepEqual(whole[0].run.losses, whole[1].run.losses);
    assertClose(pairs[0].run.losses, whole[0].run.losses, 1e-5, "evalBatchSize 2 vs 5");
  },
);

Deno.test("an already aborted signal starts nothing", gpuTest, async () => {
  const controller = new AbortController();
  controller.abort(new Error("stop"));
  let progressed = false;
  await assert.rejects(
    collect(await options({ signal: controller.signal, onProgress: () => (progressed = true) })),
    /stop/,
  );
  assert.equal(progressed, false);
});

Deno.test("input problems are 400s raised before any GPU work", gpuTest, async () => {
  const cases: [Partial<RecordRunsOptions>, string][] = [
    [{ batchSize: 25 }, "batch_too_large"],
    [{ curriculum: { batches: [["tr-0", "zz"]] }, steps: undefined }, "unknown_train_ids"],
    [{ curriculum: { batches: [["tr-0"]] } }, "invalid_training_request"],
    [{ steps: 3, epochs: 1 }, "invalid_training_request"],
    [{ testExamples: [...test, { id: "te-0", text: "dup" }] }, "duplicate_example_id"],
    [{ testExamples: [{ id: "big", text: "x".repeat(13) }] }, "example_too_long"],
    [{ optimizer: { kind: "adamw", lr: -1 } }, "invalid_optimizer"],
  ];
  const isCode = (code: string) => (e: unknown) =>
    e instanceof TrainingInputError && e.code === code && toApiError(e)?.status === 400;
  for (const [overrides, code] of cases) {
    const o = await options(overrides);
    // planRecording needs no GPU, so a route can answer 400 before queueing a job...
    assert.throws(() => planRecording(o), isCode(code), code);
    // ...and recordRuns throws the same when called, before yielding anything.
    assert.throws(() => recordRuns(o), isCode(code), code);
  }
  // A valid request plans every run's batches and the one batch shape.
  const plan = planRecording(await options({ runs: 3, steps: 4 }));
  assert.equal(plan.curricula.length, 3);
  assert.ok(plan.curricula.every((c) => c.length === 4));
  assert.equal(plan.rows, 4);
  assert.equal(plan.contextLength, 7); // "x>" + 4 digits + end-of-text
  assert.equal(plan.optimizers[0].schedule.totalSteps, 4);
  // A long run plans without spreading its batches into one call's arguments (that overflowed the
  // stack at 100,000 steps: a 500 where a 202 was due).
  const long = planRecording(await options({ runs: 1, steps: 200_000 }));
  assert.equal(long.curricula[0].length, 200_000);
  assert.equal(long.rows, 4);
});

Deno.test("recorded runs feed the Simfluence fit", gpuTest, async () => {
  const recorded = await collect(
    await options({
      runs: 4,
      steps: 4,
      curriculum: { kind: "subsample", subsampleFraction: 0.5 },
    }),
  );
  const universe = { trainIds: train.map((e) => e.id), testIds: recorded[0].run.testExamples };
  const index = new Map(universe.trainIds.map((id, i) => [id, i]));
  const runs: Run[] = recorded.map(({ run }) => ({
    id: run.name,
    batches: run.steps.map((s) => s.batch.map((id) => index.get(id)!)),
    losses: run.losses,
  }));
  const fit = await fitSimulator(null, universe, runs, { kind: "linear", lambdaFactor: 0.01 });
  assert.equal(fit.params.n, train.length);
  assert.equal(fit.params.m, test.length);
  assert.ok(fit.params.A.every(Number.isFinite) && fit.params.B.every(Number.isFinite));
  // Ids used by some run are fitted; the others are reported as unseen.
  const used = new Set(runs.flatMap((r) => (r.batches as number[][]).flat()));
  assert.deepEqual(
    fit.params.unseen,
    universe.trainIds.map((_, i) => i).filter((i) => !used.has(i)),
  );
});
