// A learning check for influence scores: on builtin:skills (four string skills written as
// prompt → completion), after a tiny model has learned the task, a held-out query's most helpful
// training examples should mostly be of the query's own skill. Chance is 1/4.
import assert from "node:assert/strict";
import { skillExamples } from "../../src/datasets/skills.ts";
import { parseGpt2Config } from "../../src/gpt2/config.ts";
import { Gpt2Model } from "../../src/gpt2/model.ts";
import { GpuOptimizer } from "../../src/gpt2/optimizer.ts";
import { initParams } from "../../src/gpt2/params.ts";
import { fitFactors } from "../../src/influence/factors/fit.ts";
import { trackedModules } from "../../src/influence/modules.ts";
import { computeScores } from "../../src/influence/scores/engine.ts";
import { seededUniform, shuffled } from "../../src/random.ts";
import { BYTE_VOCAB_SIZE } from "../../src/text/byte_tokenizer.ts";
import { byteTokenizer } from "../../src/text/tokenizer.ts";
import { buildBatch, encodeExample } from "../../src/training/encode.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

const TOP = 10;

Deno.test(
  "influence learning check: top-ranked examples share the query's skill",
  gpuTest,
  async () => {
    const rt = await testRuntime();
    const config = parseGpt2Config({
      vocab_size: BYTE_VOCAB_SIZE,
      n_positions: 24,
      n_embd: 32,
      n_layer: 2,
      n_head: 2,
    });
    const examples = shuffled(skillExamples(), seededUniform(7));
    const encoded = examples.map((e) => encodeExample(e, byteTokenizer, config));
    const train = encoded.slice(0, 800);
    const queries = encoded.slice(800, 832);
    const steps = 200;
    const model = Gpt2Model.create(rt, initParams(config, 4321));
    const optimizer = GpuOptimizer.create(rt, {
      kind: "adamw",
      lr: 1e-2,
      beta2: 0.98,
      schedule: { warmupSteps: 5, totalSteps: steps, decay: "cosine", minLrRatio: 0.1 },
    }, model.layout.total);
    let params;
    try {
      for (let step = 0; step < steps; step++) {
        const start = (step * 32) % train.length;
        await model.trainStep(buildBatch(train.slice(start, start + 32)), optimizer);
      }
      params = await model.readParams();
    } finally {
      optimizer.dispose();
      model.dispose();
    }
    const factors = await fitFactors({
      runtime: rt,
      params,
      sequences: train,
      modules: trackedModules(config, "mlp"),
      batchSize: 32,
    });
    const scores = await computeScores({
      runtime: rt,
      params,
      factors,
      train,
      queries,
      batchSize: 32,
    });
    const skill = (id: string) => id.split("-")[0];
    let same = 0;
    queries.forEach((q, i) => {
      const row = [...train.keys()].map((m) => ({ m, s: scores.total[i * train.length + m] }));
      row.sort((a, b) => b.s - a.s);
      same += row.slice(0, TOP).filter((r) => skill(train[r.m].id) === skill(q.id)).length;
    });
    const share = same / (queries.length * TOP);
    console.log(
      `share of the top ${TOP} with the query's skill: ${share.toFixed(3)} (chance 0.25)`,
    );
    assert.ok(share >= 0.6, `only ${share} of the top ${TOP} share the query's skill`);
  },
);
