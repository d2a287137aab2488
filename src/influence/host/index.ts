// CPU ports of EK-FAC's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";

export const influenceHostKernels: HostKernelTable = {};
