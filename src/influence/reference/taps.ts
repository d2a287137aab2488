// Per-token taps of one sequence, in float64: for every tracked module, the inputs a_t (with the
// appended 1) and the output gradients s_t of the sequence's SUMMED token loss (cross-entropy of
// every labelled token, weight 1), from the float64 GPT-2 reference's backward.
//
// Each sequence is its own batch (B = 1, T = its length, no padding), so every position is a
// non-padding position; its gradients are exactly the per-example gradients a batched pass gives.
import { type Batch, prepareBatch } from "../../gpt2/batch.ts";
import type { Gpt2Config } from "../../gpt2/config.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import {
  type Params64,
  referenceBackward,
  referenceForward,
  toParams64,
} from "../../gpt2/reference/model.ts";
import type { TrackedModule } from "../modules.ts";

/** A tokenized sequence (e.g. tokenizeExample's output). */
export interface InfluenceExample {
  /** Token ids, [T]. */
  tokens: readonly number[];
  /**
   * Per token: 1 when it is a label whose prediction (made at position t − 1) counts in the loss
   * (HF labels ≠ −100). Position 0 can never count. Default: every token after the first.
   */
  lossMask?: readonly number[];
}

/** The model as the reference reads it: float64 parameters under HF names and the config. */
export interface ReferenceModel {
  params: Params64;
  config: Gpt2Config;
}

/** Accepts a ParamSet (f32, converted once) or float64 parameters. */
export function referenceModel(params: ParamSet | Params64, config?: Gpt2Config): ReferenceModel {
  if (params instanceof Map) {
    if (!config) throw new TypeError("float64 parameters need their config");
    return { params, config };
  }
  return { params: toParams64(params), config: config ?? params.config };
}

export interface ModuleTap {
  module: TrackedModule;
  /** Sequence length T. */
  T: number;
  /** [T, cols] row-major: a_t = [layer input at position t; 1]. */
  a: Float64Array;
  /** [T, dOut] row-major: s_t = ∂(summed loss)/∂(layer output at position t). */
  s: Float64Array;
}

export interface SequenceTaps {
  T: number;
  /** The summed cross-entropy over labelled tokens (the training loss / query measurement). */
  loss: number;
  /** Labelled tokens that count. */
  labels: number;
  /** Per tracked module, in the order given. */
  taps: ModuleTap[];
}

/** The batch of one sequence and the weights of its summed loss (1 at counted positions). */
export function sequenceBatch(example: InfluenceExample, config: Gpt2Config) {
  const T = example.tokens.length;
  if (T < 1) throw new RangeError("a sequence needs at least one token");
  const batch: Batch = { B: 1, T, tokens: example.tokens, lossMask: example.lossMask };
  const prepared = prepareBatch(batch, config);
  const weights = Float64Array.from(prepared.exampleWeights, (w) => (w > 0 ? 1 : 0));
  return { prepared, weights };
}

/** Forward + backward of one sequence's summed loss, keeping the tracked modules' taps. */
export function sequenceTaps(
  model: ReferenceModel,
  example: InfluenceExample,
  modules: readonly TrackedModule[],
): SequenceTaps {
  const { prepared, weights } = sequenceBatch(example, model.config);
  const T = prepared.T;
  const fwd = referenceForward(model.params, model.config, prepared);
  let loss = 0, labels = 0;
  for (let t = 0; t < T; t++) {
    if (weights[t] !== 0) {
      loss += fwd.tokenLoss[t];
      labels++;
    }
  }
  const byName = new Map(modules.map((m, i) => [m.name, i]));
  const taps: (ModuleTap | undefined)[] = new Array(modules.length);
  referenceBackward(model.params, model.config, prepared, fwd, weights, (tap) => {
    const index = byName.get(tap.name);
    if (index === undefined) return;
    const module = modules[index];
    const { dIn, dOut, cols } = module;
    if (tap.input.length !== T * dIn || tap.outputGrad.length !== T * dOut) {
      throw new RangeError(`${tap.name}: tap shapes do not match [${dIn}] → [${dOut}]`);
    }
    const a = new Float64Array(T * cols);
    for (let t = 0; t < T; t++) {
      a.set(tap.input.subarray(t * dIn, (t + 1) * dIn), t * cols);
      a[t * cols + dIn] = 1;
    }
    taps[index] = { module, T, a, s: Float64Array.from(tap.outputGrad) };
  });
  const missing = modules.filter((_, i) => !taps[i]).map((m) => m.name);
  if (missing.length > 0) throw new RangeError(`no such linear layer: ${missing.join(", ")}`);
  return { T, loss, labels, taps: taps as ModuleTap[] };
}

/** DW = Σ_t s_t a_tᵀ, [dOut, cols] row-major. */
export function tapGradient(tap: ModuleTap): Float64Array {
  const { T, a, s } = tap;
  const { dOut, cols } = tap.module;
  const g = new Float64Array(dOut * cols);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < dOut; o++) {
      const so = s[t * dOut + o];
      if (so === 0) continue;
      const row = o * cols, at = t * cols;
      for (let c = 0; c < cols; c++) g[row + c] += so * a[at + c];
    }
  }
  return g;
}
