// Every CPU port, by the name the runtime looks up (host_kernel.ts). Each capability keeps its
// ports beside its launchers, in a host/ folder, and exports one table.
import { gpt2HostKernels } from "../../gpt2/host/index.ts";
import { influenceHostKernels } from "../../influence/host/index.ts";
import { projectionHostKernels } from "../../projection/host/index.ts";
import { simfluenceHostKernels } from "../../simfluence/math/host/index.ts";
import type { HostKernel, HostKernelTable } from "./host_kernel.ts";
import { gpuHostKernels } from "./kernels/index.ts";
import { mergeTables } from "./merge_tables.ts";

const TABLES: readonly HostKernelTable[] = [
  gpuHostKernels,
  gpt2HostKernels,
  influenceHostKernels,
  projectionHostKernels,
  simfluenceHostKernels,
];

let merged: Map<string, HostKernel> | null = null;

/** The CPU port for `name`, or undefined when the shader has none. */
export function hostKernel(name: string): HostKernel | undefined {
  merged ??= mergeTables(TABLES, "CPU ports");
  return merged.get(name);
}
