// Every CPU port, by the name the runtime looks up (host_kernel.ts). Each capability keeps its
// ports beside its launchers, in a host/ folder, and exports one table.
import { gpt2HostKernels } from "../../gpt2/host/index.ts";
import { influenceHostKernels } from "../../influence/host/index.ts";
import { projectionHostKernels } from "../../projection/host/index.ts";
import { simfluenceHostKernels } from "../../simfluence/math/host/index.ts";
import type { HostKernel, HostKernelTable } from "./host_kernel.ts";
import { gpuHostKernels } from "./kernels/index.ts";

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
  if (!merged) {
    merged = new Map();
    for (const table of TABLES) {
      for (const [key, kernel] of Object.entries(table)) {
        if (merged.has(key)) throw new Error(`two CPU ports are named ${key}`);
        merged.set(key, kernel);
      }
    }
  }
  return merged.get(name);
}
