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
