// Loads WGSL files from shaders/, specialises them, compiles once and caches pipelines.
//
// Specialisation: a shader may use constants it does not declare (tile sizes that size private
// arrays, which WGSL `override`s cannot do). They are supplied per pipeline as `defines` and
// injected as a `const` prelude; compile errors are mapped back to the file's own line numbers.

import type { GpuDevice } from "./device.ts";

export class ShaderCompileError extends Error {
  override name = "ShaderCompileError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(`${file}:${line}:${column}: ${detail}`);
  }
}

export type Defines = Record<string, number | boolean>;

export interface PipelineKey {
  shader: string;
  entryPoint?: string;
  defines?: Defines;
  /** WGSL `override` constants, e.g. workgroup sizes. */
  overrides?: Record<string, number>;
}

const SHADER_DIR = new URL("../../shaders/", import.meta.url);

const sourceCache = new Map<string, string>();

/** Reads shaders/<name>.wgsl once per process. */
export function shaderSource(name: string): string {
  let source = sourceCache.get(name);
  if (source === undefined) {
    source = Deno.readTextFileSync(new URL(`${name}.wgsl`, SHADER_DIR));
    sourceCache.set(name, source);
  }
  return source;
}

function definePrelude(defines: Defines | undefined): string[] {
  if (!defines) return [];
  return Object.keys(defines).sort().map((name) => {
    const value = defines[name];
    if (typeof value === "boolean") return `const ${name}: bool = ${value};`;
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`define ${name}=${value} must be a non-negative integer or boolean`);
    }
    return `const ${name}: u32 = ${value}u;`;
  });
}

/** A pipeline key as one string (the pipeline's label and cache key). */
export function keyString(key: PipelineKey): string {
  const defs = key.defines ? Object.entries(key.defines).sort() : [];
  const ovr = key.overrides ? Object.entries(key.overrides).sort() : [];
  return `${key.shader}#${key.entryPoint ?? "main"}#${JSON.stringify(defs)}#${JSON.stringify(ovr)}`;
}

/** Where the runtime gets pipelines: compiled WGSL, or stand-ins naming a CPU port. */
export interface PipelineSource {
  readonly size: number;
  get(key: PipelineKey): Promise<GPUComputePipeline>;
}

export class PipelineCache implements PipelineSource {
  private pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private generation = -1;
  /** Error scopes are a device-wide stack, so compilations must not interleave. */
  private compiling: Promise<unknown> = Promise.resolve();

  constructor(private readonly gpu: GpuDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** Returns the compiled pipeline, compiling (and checking for errors) on first use. */
  async get(key: PipelineKey): Promise<GPUComputePipeline> {
    if (this.generation !== this.gpu.generation) {
      this.pipelines.clear();
      this.generation = this.gpu.generation;
    }
    const id = keyString(key);
    let pipeline = this.pipelines.get(id);
    if (!pipeline) {
      pipeline = this.compiling.then(() => this.compile(key));
      this.compiling = pipeline.catch(() => {});
      this.pipelines.set(id, pipeline);
      // A failed compilation is not cached, so a fixed shader file can be retried.
      pipeline.catch(() => this.pipelines.delete(id));
    }
    return await pipeline;
  }

  private async compile(key: PipelineKey): Promise<GPUComputePipeline> {
    const device = this.gpu.device;
    const file = `shaders/${key.shader}.wgsl`;
    const prelude = definePrelude(key.defines);
    const code = [...prelude, shaderSource(key.shader)].join("\n");
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ label: file, code });
    const info = await module.getCompilationInfo();
    const moduleError = await device.popErrorScope();
    const firstError = info.messages.find((m) => m.type === "error");
    if (firstError) {
      const line = Math.max(1, firstError.lineNum - prelude.length);
      throw new ShaderCompileError(file, line, firstError.linePos, firstError.message.trim());
    }
    if (moduleError) throw new ShaderCompileError(file, 0, 0, moduleError.message.trim());
    device.pushErrorScope("validation");
    const pipeline = device.createComputePipeline({
      label: keyString(key),
      layout: "auto",
      compute: { module, entryPoint: key.entryPoint ?? "main", constants: key.overrides },
    });
    const pipelineError = await device.popErrorScope();
    if (pipelineError) throw new ShaderCompileError(file, 0, 0, pipelineError.message.trim());
    return pipeline;
  }
}
