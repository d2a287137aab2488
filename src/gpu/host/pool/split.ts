// Kernels that can run in parts on several threads (host_pool.ts): each part computes a disjoint
// share of the dispatch's outputs (attention: whole heads), so the parts need no locks and their
// union is exactly the whole kernel, bit for bit.
import type { HostCall } from "../host_kernel.ts";

/** Part `index` of `count`. */
export interface HostPart {
  index: number;
  count: number;
}

export const WHOLE: HostPart = { index: 0, count: 1 };

export type HostSplitKernel = (call: HostCall, part: HostPart) => void;

export type HostSplitTable = Readonly<Record<string, HostSplitKernel>>;

/** [from, to) of part `index` of `count` over `n` items, as even as integers allow. */
export function partRange(n: number, { index, count }: HostPart): [number, number] {
  return [Math.floor((n * index) / count), Math.floor((n * (index + 1)) / count)];
}
