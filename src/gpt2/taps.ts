// The contract between the model's backward pass and what is built on per-token linear-layer
// quantities (gradient projection, TracIn, EK-FAC influence functions): an Objective says what
// is differentiated, a BackwardVisitor sees every linear layer's LinearTap as the backward
// reaches it (Gpt2Model.backward).
//
// For a linear layer y = a·W + b (Hugging Face's Conv1D, W [d_in, d_out]) and an objective
// J = Σ_t w_t·ce_t, the tap at token t holds a_t (the layer's input) and s_t = ∂J/∂y_t (the
// gradient at its output), so that ∂J/∂W = Σ_t a_t s_tᵀ and ∂J/∂b = Σ_t s_t: the per-token
// pieces of the weight gradient (and a_t ⊗ [a_t, 1], s_t ⊗ s_t are EK-FAC's covariance factors).
import type { Tensor } from "../gpu/tensor.ts";
import type { PreparedBatch } from "./batch.ts";

/** The linear modules of a GPT-2 block, in forward order (the backward visits them reversed). */
export const LINEAR_MODULES = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"] as const;

export type LinearModule = typeof LINEAR_MODULES[number];

/** One linear (Conv1D) layer's per-token quantities for a batch. */
export interface LinearTap {
  /** HF module name, e.g. "h.0.mlp.c_fc". */
  name: string;
  layer: number;
  module: LinearModule;
  /** a_t: the layer's input [B, T, d_in] (the bias's appended 1 is implicit). */
  input: Tensor;
  /** s_t: gradient of the objective w.r.t. the layer's output [B, T, d_out]. */
  outputGrad: Tensor;
  /** The weight [d_in, d_out] and bias [d_out] (views of the parameter buffer). */
  weight: Tensor;
  bias: Tensor;
}

/**
 * Sees the backward pass as it goes. `linear` is called once for each linear layer of every
 * block, in backward order (layers L-1 … 0; in each mlp.c_proj, mlp.c_fc, attn.c_proj,
 * attn.c_attn), as soon as the backward has computed that layer's s_t and before any of the
 * tap's buffers may be reused; the backward waits for a returned promise before going on.
 *
 * The tap's tensors are valid only during the call: a visitor records its GPU work on them
 * (a covariance accumulation, a projection, a copy) inside the call. Recording is enough, the
 * work need not have run: the runtime executes work in the order it was recorded, so it reads
 * the buffers before anything recorded later overwrites them. Reading a tap back (rt.read)
 * inside the call is also correct, only slower. Parameter gradients are complete only once
 * backward() has resolved (the tapped layer's own weight gradient is computed after the call).
 */
export interface BackwardVisitor {
  linear?(tap: LinearTap): void | Promise<void>;
}

/**
 * Where the objective's labels come from. "data": the batch's next tokens. "sampled": the true
 * Fisher's labels, each labelled position's target drawn from the model's own predictive
 * distribution softmax(logits) there (unlabelled positions stay unlabelled), reproducibly per
 * (seed, example index in the batch, position): see labels.ts.
 */
export type LabelSource = { kind: "data" } | { kind: "sampled"; seed: number };

/**
 * What the backward differentiates, in the spirit of kronfluence's Task:
 * J = Σ_positions weights[p]·ce(logits_p, label_p).
 */
export interface Objective {
  /**
   * [B·T]: the weight of the cross-entropy at each predicting position (position t predicts
   * token t + 1); 0 where the batch counts no prediction.
   */
  weights(batch: PreparedBatch): Float32Array;
  /** Default: the data's labels. */
  labels?: LabelSource;
}

const DATA: LabelSource = { kind: "data" };

/**
 * The summed training loss: weight 1 on every labelled position (the batch's loss mask), not the
 * batch mean. Influence functions' convention (kronfluence's compute_train_loss).
 */
export function summedLoss(labels: LabelSource = DATA): Objective {
  return { labels, weights: (batch) => batch.exampleWeights.map((w) => (w > 0 ? 1 : 0)) };
}

/**
 * The batch loss training minimises (computeGradients / trainStep): the mean over examples of
 * each one's mean counted token loss (batch.lossWeights).
 */
export function meanLoss(labels: LabelSource = DATA): Objective {
  return { labels, weights: (batch) => batch.lossWeights.slice() };
}

/** An objective's weights for a batch, checked: B·T finite numbers. */
export function objectiveWeights(
  objective: Objective,
  batch: PreparedBatch,
): Float32Array<ArrayBuffer> {
  const N = batch.B * batch.T;
  const weights = objective.weights(batch);
  if (weights.length !== N) {
    throw new RangeError(`the objective gives ${weights.length} weights, expected B·T = ${N}`);
  }
  const index = weights.findIndex((w) => !Number.isFinite(w));
  if (index >= 0) throw new RangeError(`objective weight ${index} is ${weights[index]}`);
  return Float32Array.from(weights);
}

export interface BackwardOptions {
  /**
   * Compute every parameter's gradient (default true). False computes only what flows back
   * through the activations, which is all a visitor's taps need: the weight, bias, LayerNorm,
   * head and embedding gradients are skipped (about a third of the backward's work) and
   * readGrads is unavailable until the next backward with gradients.
   */
  parameterGradients?: boolean;
}
