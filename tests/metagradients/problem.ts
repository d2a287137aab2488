// A tiny metagradient problem shared by the tests: the 2-layer, width-16 model of the model tests,
// 8 AdamW steps of 3 rows over 6 training examples (each seen several times, one batch with a
// padded row), and a query; clipping is active at these weights.
import type { Batch } from "../../src/gpt2/batch.ts";
import { type OptimizerConfig, optimizerSchema } from "../../src/gpt2/optimizer.ts";
import type { ReplayStep } from "../../src/metagradients/engine.ts";
import type { ReferenceProblem } from "../../src/metagradients/reference.ts";
import { seededNormal } from "../../src/random.ts";
import { spreadParams, tinyConfig } from "../helpers/model_fixtures.ts";

export const config = tinyConfig();
const T = 7;

function example(seed: number, length = T): { tokens: number[]; mask: number[] } {
  const normal = seededNormal(seed);
  const tokens = Array.from(
    { length: T },
    (_, t) => t < length ? Math.abs(Math.floor(normal() * 1000)) % config.vocab_size : 0,
  );
  const mask = Array.from({ length: T }, (_, t) => (t >= 1 && t < length ? 1 : 0));
  return { tokens, mask };
}

const examples = Array.from({ length: 6 }, (_, i) => example(100 + i, i === 4 ? 5 : T));
export const trainIds = examples.map((_, i) => `e${i}`);

function batchOf(ids: number[], dataWeights?: number[]): ReplayStep {
  const tokens: number[] = [], attentionMask: number[] = [], lossMask: number[] = [];
  for (const i of ids) {
    const e = examples[i];
    tokens.push(...e.tokens);
    attentionMask.push(...e.tokens.map((_, t) => (i === 4 && t >= 5 ? 0 : 1)));
    lossMask.push(...e.mask);
  }
  const batch: Batch = { B: ids.length, T, tokens, attentionMask, lossMask, dataWeights };
  return { batch, rowIds: ids.map((i) => trainIds[i]) };
}

const order = [[0, 1, 2], [3, 4, 5], [1, 3, 5], [0, 2, 4], [2, 5, 0], [4, 1, 3], [5, 0, 1], [
  3,
  2,
  4,
]];

export function tinyProblem(overrides: Record<string, unknown> = {}): ReferenceProblem {
  const q = example(900);
  const optimizer: OptimizerConfig = optimizerSchema.parse({
    kind: "adamw",
    lr: 0.01,
    weightDecay: 0.1,
    maxGradNorm: 1,
    ...overrides,
  });
  return {
    initial: spreadParams(config, 21),
    optimizer,
    steps: order.map((ids) => batchOf(ids)),
    query: { B: 1, T, tokens: q.tokens, lossMask: q.mask },
  };
}
