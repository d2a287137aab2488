// CPU ports of the GPT-2 model's kernels, by shader name (see src/gpu/host/host_kernel.ts): the
// model's forward and backward, and the forward-mode tangents and the optimiser's reverse step
// that exact metagradients use.
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";
import type { HostSplitTable } from "../../gpu/host/pool/split.ts";
import { attentionKernels, attentionSplitKernels } from "./attention.ts";
import { attentionTangentHostKernels } from "./attention_tangent.ts";
import { crossEntropyTangentHostKernels } from "./cross_entropy_tangent.ts";
import { layerNormTangentHostKernels } from "./layernorm_tangent.ts";
import { optimizerReverseHostKernels } from "./optimizer_reverse.ts";
import { crossEntropyKernels } from "./cross_entropy.ts";
import { embeddingKernels } from "./embedding.ts";
import { layernormKernels, layernormSplitKernels } from "./layernorm.ts";
import { optimizerKernels, optimizerSplitKernels } from "./optimizer.ts";
import { sampleKernels } from "./sample.ts";

export const gpt2HostKernels: HostKernelTable = {
  ...attentionKernels,
  ...crossEntropyKernels,
  ...embeddingKernels,
  ...layernormKernels,
  ...optimizerKernels,
  ...sampleKernels,
  ...attentionTangentHostKernels,
  ...crossEntropyTangentHostKernels,
  ...layerNormTangentHostKernels,
  ...optimizerReverseHostKernels,
};

/** The ports that also run in parts, on several threads (src/gpu/host/pool/). */
export const gpt2SplitKernels: HostSplitTable = {
  ...attentionSplitKernels,
  ...layernormSplitKernels,
  ...optimizerSplitKernels,
};
