// The CPU backend's pipeline source: no compilation, only a stand-in object that carries its key,
// so that launchers which fetch a pipeline once and `record` it in a loop work unchanged.
import { keyString, type PipelineKey, type PipelineSource } from "../shaders.ts";

interface HostPipeline {
  readonly label: string;
  readonly hostKey: PipelineKey;
}

export class HostPipelines implements PipelineSource {
  private pipelines = new Map<string, HostPipeline>();

  get size(): number {
    return this.pipelines.size;
  }

  get(key: PipelineKey): Promise<GPUComputePipeline> {
    const label = keyString(key);
    let pipeline = this.pipelines.get(label);
    if (!pipeline) {
      pipeline = { label, hostKey: key };
      this.pipelines.set(label, pipeline);
    }
    return Promise.resolve(pipeline as unknown as GPUComputePipeline);
  }
}

/** The key a stand-in carries; throws for a real (compiled) pipeline. */
export function hostPipelineKey(pipeline: GPUComputePipeline): PipelineKey {
  const key = (pipeline as unknown as Partial<HostPipeline>).hostKey;
  if (!key) throw new Error(`pipeline ${pipeline.label} was compiled for the GPU`);
  return key;
}
