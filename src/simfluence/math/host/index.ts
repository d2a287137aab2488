// CPU ports of Simfluence's simulate and solver kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../../gpu/host/host_kernel.ts";

export const simfluenceHostKernels: HostKernelTable = {};
