// CPU ports of gradient projection's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";

export const projectionHostKernels: HostKernelTable = {};
