// Shared fixtures of the model tests: a tiny config, parameters with O(1) spread (so that every
// non-linearity matters, unlike GPT-2's 0.02 init), and a padded, loss-masked batch.
import { type Batch } from "../../src/gpt2/batch.ts";
import { type Gpt2Config, parseGpt2Config } from "../../src/gpt2/config.ts";
import { type ParamSet, paramSpecs } from "../../src/gpt2/params.ts";
import { seededNormal } from "../../src/random.ts";

export function tinyConfig(overrides: Record<string, unknown> = {}): Gpt2Config {
  return parseGpt2Config({
    vocab_size: 37,
    n_positions: 9,
    n_embd: 16,
    n_layer: 2,
    n_head: 2,
    ...overrides,
  });
}

export function spreadParams(config: Gpt2Config, seed: number, std = 0.3): ParamSet {
  const normal = seededNormal(seed);
  const values = new Map<string, Float32Array>();
  for (const spec of paramSpecs(config)) {
    const base = spec.init === "ones" ? 1 : 0;
    const s = spec.shape.length === 2 ? std : std / 3;
    values.set(spec.name, Float32Array.from({ length: spec.size }, () => base + s * normal()));
  }
  return { config, values };
}

/** B rows of T tokens; row 1 is right-padded, the first tokens of each row are the "prompt". */
export function tinyBatch(config: Gpt2Config, B = 3, T = 7, seed = 5): Batch {
  const normal = seededNormal(seed);
  const V = config.vocab_size;
  const tokens = Array.from({ length: B * T }, () => Math.abs(Math.floor(normal() * 1000)) % V);
  const attentionMask = new Array(B * T).fill(1);
  const lossMask = new Array(B * T).fill(0);
  for (let b = 0; b < B; b++) {
    const length = b === 1 ? T - 3 : T;
    for (let t = length; t < T; t++) attentionMask[b * T + t] = 0;
    for (let t = 2; t < length; t++) lossMask[b * T + t] = 1;
  }
  return { B, T, tokens, attentionMask, lossMask };
}
