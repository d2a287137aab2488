// CPU ports of the GPT-2 model's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";

export const gpt2HostKernels: HostKernelTable = {};
