// Shared by the launchers of the GPT-2 engine's own kernels (shaders/gpt2_*.wgsl): the workgroup
// size and the buffer checks. Tensors carry their element offsets; parameters and their
// gradients are views into the model's flat buffers, so several of them may share one binding.
import type { Tensor } from "../../gpu/tensor.ts";

export const WG = 64;

/** Throws unless every tensor lives in one buffer (a kernel that binds them once). */
export function sameBuffer(kernel: string, ...tensors: Tensor[]): void {
  if (tensors.some((t) => t.buffer !== tensors[0].buffer)) {
    throw new RangeError(`${kernel}: these tensors must share one buffer`);
  }
}

/** Throws if the output shares a buffer with an input (WebGPU forbids read + read_write aliasing). */
export function distinct(kernel: string, out: Tensor, ...inputs: Tensor[]): void {
  if (inputs.some((t) => t.buffer === out.buffer)) {
    throw new RangeError(`${kernel}: the output must not share a buffer with an input`);
  }
}
