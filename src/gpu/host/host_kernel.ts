// The CPU backend's kernel interface. A launcher records the same dispatch on either backend; on
// the CPU backend the runtime calls the shader's CPU port with the dispatch's buffers, uniform
// parameters and workgroup counts, and the port computes exactly what that dispatch computes on
// the GPU (see shaders/<name>.wgsl for each Params struct: u32 fields first, then f32 ones).
import type { Defines, PipelineKey } from "../shaders.ts";
import type { HostBuffer } from "./host_buffer.ts";

export interface HostCall {
  key: PipelineKey;
  /** key.defines, or {} when none. */
  defines: Defines;
  /** key.overrides, or {} when none. */
  overrides: Record<string, number>;
  /** Storage bindings in binding order, after the uniform when there is one. */
  buffers: readonly HostBuffer[];
  /** The uniform's u32 fields, in order. */
  u: readonly number[];
  /** The uniform's f32 fields, in order, already rounded to f32 as the GPU sees them. */
  f: readonly number[];
  workgroups: readonly [number, number, number];
}

export type HostKernel = (call: HostCall) => void;

/**
 * CPU ports by shader name, or by `shader#entryPoint` for a file with several entry points (the
 * bare name is `main`).
 */
export type HostKernelTable = Readonly<Record<string, HostKernel>>;

/** The table key of a pipeline key. */
export function hostKernelName(key: PipelineKey): string {
  const entry = key.entryPoint ?? "main";
  return entry === "main" ? key.shader : `${key.shader}#${entry}`;
}
