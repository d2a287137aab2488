// CPU ports of the GPT-2 kernels that exact metagradients use (forward-mode tangents and the
// optimiser's reverse step), by shader name (see src/gpu/host/host_kernel.ts); merged into the
// kernel table beside index.ts.
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";
import { attentionTangentHostKernels } from "./attention_tangent.ts";
import { crossEntropyTangentHostKernels } from "./cross_entropy_tangent.ts";
import { layerNormTangentHostKernels } from "./layernorm_tangent.ts";
import { optimizerReverseHostKernels } from "./optimizer_reverse.ts";

export const gpt2TangentHostKernels: HostKernelTable = {
  ...attentionTangentHostKernels,
  ...crossEntropyTangentHostKernels,
  ...layerNormTangentHostKernels,
  ...optimizerReverseHostKernels,
};
