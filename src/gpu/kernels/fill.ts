// fill: sets every element of a contiguous tensor to one value (shaders/fill.wgsl).
import type { GpuRuntime } from "../runtime.ts";
import type { Tensor } from "../tensor.ts";
import { grid1d } from "./grid.ts";

const WG = 64;

export async function fill(rt: GpuRuntime, out: Tensor, value: number): Promise<void> {
  if (!out.isContiguous) throw new Error("fill needs a contiguous tensor");
  await rt.dispatch({
    pipeline: { shader: "fill", defines: { WG } },
    params: { u: [out.size, out.offset], f: [value] },
    bindings: [out],
    workgroups: grid1d(out.size, WG),
  });
}
