// Recording overhead: wall time per step of recordRuns (a training step plus a forward over every
// test example, read back together) against plain Gpt2Model.trainStep on the same batches, which
// is what training without recording would cost. Byte-level text of fixed length, so the two do
// identical training work.
import type { DatasetExample } from "../src/datasets/example.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { seededUniform } from "../src/random.ts";
import { parseGpt2Config } from "../src/gpt2/config.ts";
import { Gpt2Model } from "../src/gpt2/model.ts";
import { initParams } from "../src/gpt2/params.ts";
import { BYTE_VOCAB_SIZE } from "../src/text/byte_tokenizer.ts";
import { buildBatch, encodeExamples } from "../src/training/encode.ts";
import { recordRuns } from "../src/training/recorder.ts";
import { byteTokenizer } from "../src/text/tokenizer.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

function examples(prefix: string, n: number, length: number, seed: number): DatasetExample[] {
  const next = seededUniform(seed);
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    text: Array.from({ length }, () => String.fromCharCode(97 + Math.floor(next() * 26))).join(""),
  }));
}

export const trainingSuite: BenchSuite = {
  name: "training",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    const context = 64;
    const config = parseGpt2Config({
      vocab_size: BYTE_VOCAB_SIZE,
      n_positions: context,
      n_embd: 64,
      n_layer: 2,
      n_head: 2,
    });
    const batchSize = 8;
    const steps = quick ? 4 : 12;
    const m = quick ? 16 : 32;
    const train = examples("tr", 64, context, 1);
    const test = examples("te", m, context, 2);
    const params = initParams(config, 3);
    const optimizer = { kind: "adamw" as const, lr: 1e-3 };

    // Warm-up (pipelines), then one recorded run.
    const record = async (runSteps: number) => {
      let out = null;
      for await (
        const r of recordRuns({
          runtime: rt,
          config,
          baseParams: params,
          tokenizer: byteTokenizer,
          trainExamples: train,
          testExamples: test,
          study: "bench",
          runs: 1,
          steps: runSteps,
          batchSize,
          optimizer,
          curriculum: { kind: "shuffle" },
          seed: 0,
        })
      ) out = r;
      return out!;
    };
    await record(1);
    const started = performance.now();
    const recorded = await record(steps);
    const recordSeconds = (performance.now() - started) / 1000;

    // Plain training on the same batches.
    const byId = new Map(encodeExamples(train, byteTokenizer, config).map((e) => [e.id, e]));
    const model = Gpt2Model.create(rt, params);
    const gpuOptimizer = model.createOptimizer(optimizer);
    let plainSeconds = 0;
    try {
      const batches = recorded.run.steps.map((s) => buildBatch(s.batch.map((id) => byId.get(id)!)));
      await model.trainStep(batches[0], gpuOptimizer);
      const t0 = performance.now();
      for (const batch of batches) await model.trainStep(batch, gpuOptimizer);
      plainSeconds = (performance.now() - t0) / 1000;
    } finally {
      gpuOptimizer.dispose();
      model.dispose();
    }
    const perStep = recordSeconds / steps;
    const plainPerStep = plainSeconds / steps;
    return [{
      name: `recordRuns step (L=2 d=64 T=${context} B=${batchSize}, ${m} test examples)`,
      unit: "s/step",
      value: perStep,
      baselineName: "Gpt2Model.trainStep alone on the same batches (no recording)",
      baseline: plainPerStep,
      speedup: plainPerStep / perStep,
      notes: `${steps} steps; the recorder also runs ${
        Math.ceil(m / batchSize)
      } evaluation forwards per step (+ row 0) and reads each step back once; ${
        recorded.stats.tokensPerSecond.toFixed(0)
      } training tokens per second of recorded step`,
    }];
  },
};
