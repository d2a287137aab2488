// Helpers shared by the shader generators (see main.ts).

/** The first line of every generated file: where to edit it and how to regenerate it. */
export function generatedHeader(generator: string): string {
  return `// GENERATED — edit shaders/gen/${generator}.ts, then run \`deno task gen\``;
}

/** 0, 1, ..., n - 1. */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The non-empty conditions joined with `&&` ("" when there are none). */
export function allOf(...conditions: string[]): string {
  return conditions.filter((c) => c !== "").join(" && ");
}

/** `stmt` alone, or guarded by `cond` on the same line when there is one. */
export function guarded(cond: string, stmt: string): string {
  return cond === "" ? stmt : `if (${cond}) { ${stmt} }`;
}

/** A generated shader: its file name under shaders/ (without .wgsl) and its text. */
export interface GeneratedShader {
  generator: string;
  shader: string;
  generate(): string;
}

/** The uniform and bindings the vec4-loading matmul kernels share (matmul_vec4, matmul_panel). */
export const VEC4_MATMUL_BINDINGS = `struct Params {
  M: u32,
  N: u32,
  K: u32,
  a_off: u32,
  a_sm: u32,
  a_sk: u32,
  a_sb: u32,
  b_off: u32,
  b_sk: u32,
  b_sn: u32,
  b_sb: u32,
  out_off: u32,
  out_sb: u32,
  bias_off: u32,
  flags: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a_buf: array<vec4f>;
@group(0) @binding(2) var<storage, read> b_buf: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;`;
