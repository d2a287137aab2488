// CPU ports of Simfluence's simulate and solver kernels, by shader name (see src/gpu/host/host_kernel.ts).
import type { HostKernelTable } from "../../../gpu/host/host_kernel.ts";
import type { HostSplitTable } from "../../../gpu/host/pool/split.ts";
import { simulate } from "./simulate.ts";
import { solverCgDirection, solverCgDirectionPart } from "./solver_cg_direction.ts";
import { solverCgScalars } from "./solver_cg_scalars.ts";
import { solverCgStart } from "./solver_cg_start.ts";
import { solverCgStep, solverCgStepPart } from "./solver_cg_step.ts";
import { solverCols } from "./solver_cols.ts";
import { solverPrecond, solverPrecondPart } from "./solver_precond.ts";
import { solverRows } from "./solver_rows.ts";

export const simfluenceHostKernels: HostKernelTable = {
  simfluence_simulate: simulate,
  simfluence_solver_cg_direction: solverCgDirection,
  simfluence_solver_cg_scalars: solverCgScalars,
  simfluence_solver_cg_start: solverCgStart,
  simfluence_solver_cg_step: solverCgStep,
  simfluence_solver_cols: solverCols,
  simfluence_solver_precond: solverPrecond,
  simfluence_solver_rows: solverRows,
};

/** The solver's elementwise kernels, in parts on several threads (src/gpu/host/pool/). */
export const simfluenceSplitKernels: HostSplitTable = {
  simfluence_solver_cg_direction: solverCgDirectionPart,
  simfluence_solver_cg_step: solverCgStepPart,
  simfluence_solver_precond: solverPrecondPart,
};
