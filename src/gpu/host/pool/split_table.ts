// Every kernel that runs in parts (split.ts), by the name the runtime looks up; each capability
// exports its own table beside its ports.
import { gpt2SplitKernels } from "../../../gpt2/host/index.ts";
import { gpuSplitKernels } from "../kernels/index.ts";
import { simfluenceSplitKernels } from "../../../simfluence/math/host/index.ts";
import type { HostSplitKernel, HostSplitTable } from "./split.ts";
import { mergeTables } from "../merge_tables.ts";

const TABLES: readonly HostSplitTable[] = [
  gpuSplitKernels,
  gpt2SplitKernels,
  simfluenceSplitKernels,
];

let merged: Map<string, HostSplitKernel> | null = null;

/** The split form of the port `name`, or undefined when it runs whole only. */
export function hostSplitKernel(name: string): HostSplitKernel | undefined {
  merged ??= mergeTables(TABLES, "split CPU ports");
  return merged.get(name);
}
