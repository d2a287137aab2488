// CPU ports of gradient projection's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";
import { projectPartial } from "./dense.ts";
import { sumPartials } from "./dense_sum.ts";
import { outerSum } from "./kronecker.ts";

export const projectionHostKernels: HostKernelTable = {
  "projection_dense#project_partial": projectPartial,
  "projection_dense_sum#sum_partials": sumPartials,
  "projection_kronecker#outer_sum": outerSum,
};
