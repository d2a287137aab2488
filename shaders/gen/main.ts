// Writes the generated WGSL kernels: `deno task gen` (CI regenerates them and fails on any
// difference from the committed files).
//
// - vec4.ts    → shaders/matmul_vec4.wgsl: register-blocked 8 × 8 grid of mat4x4 accumulators;
// - panel.ts   → shaders/matmul_panel.wgsl: broadcast row panels, 32 × 8 vec4 accumulators;
// - texture.ts → shaders/matmul_texture.wgsl: texel-fetch kernel, 16 × 8 vec4 accumulators.
//
// They are generated because NIR (Mesa) does not unroll loops over large private arrays, so every
// accumulator is spelled out as a named variable guarded by compile-time-constant conditions.
import type { GeneratedShader } from "./common.ts";
import { panel } from "./panel.ts";
import { texture } from "./texture.ts";
import { vec4 } from "./vec4.ts";

export const GENERATED: readonly GeneratedShader[] = [vec4, panel, texture];

const SHADER_DIR = new URL("../", import.meta.url);

/** Writes every generated shader whose text changed; returns the files written. */
export async function writeGenerated(): Promise<string[]> {
  const written: string[] = [];
  for (const g of GENERATED) {
    const file = new URL(`${g.shader}.wgsl`, SHADER_DIR);
    const text = g.generate();
    const current = await Deno.readTextFile(file).catch(() => null);
    if (current === text) continue;
    await Deno.writeTextFile(file, text);
    written.push(`shaders/${g.shader}.wgsl`);
  }
  return written;
}

if (import.meta.main) {
  const written = await writeGenerated();
  console.log(
    written.length ? `wrote ${written.join(", ")}` : "generated shaders are up to date",
  );
}
