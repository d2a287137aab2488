// CPU ports of EK-FAC's kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../gpu/host/host_kernel.ts";
import { squareAccumulate } from "./correction.ts";
import { augment } from "./covariance.ts";
import { pairs, tokens } from "./lowrank.ts";
import { divide } from "./precondition.ts";

export const influenceHostKernels: HostKernelTable = {
  "influence_correction#square_accumulate": squareAccumulate,
  "influence_covariance#augment": augment,
  "influence_lowrank#pairs": pairs,
  "influence_lowrank#tokens": tokens,
  "influence_precondition#divide": divide,
};
