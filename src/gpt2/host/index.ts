// CPU ports of the GPT-2 model's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";
import { attentionKernels } from "./attention.ts";
import { crossEntropyKernels } from "./cross_entropy.ts";
import { embeddingKernels } from "./embedding.ts";
import { layernormKernels } from "./layernorm.ts";
import { optimizerKernels } from "./optimizer.ts";
import { sampleKernels } from "./sample.ts";

export const gpt2HostKernels: HostKernelTable = {
  ...attentionKernels,
  ...crossEntropyKernels,
  ...embeddingKernels,
  ...layernormKernels,
  ...optimizerKernels,
  ...sampleKernels,
};
