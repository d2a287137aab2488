// CPU ports of the elementwise tangent kernels (forward-mode derivatives for exact metagradients),
// by shader name (see src/gpu/host/host_kernel.ts); merged into the kernel table beside index.ts.
import type { HostKernelTable } from "../host_kernel.ts";
import { elementwiseGeluTangentKernels } from "./elementwise_gelu_tangent.ts";

export const gpuTangentHostKernels: HostKernelTable = {
  ...elementwiseGeluTangentKernels,
};
