// The CPU backend's stand-in for a GPUDevice, for runs that never open a WebGPU adapter: it
// carries the limits that launchers read to split their work, and refuses anything that would
// need a GPU. Opening no adapter also keeps Mesa's EGL out of the process: its per-thread state
// is freed twice when a thread that used it exits during `exit()`, which aborted short CPU runs
// ("double free or corruption") after their work was done.

/**
 * The limits llvmpipe reports (GL, Mesa 22), so that launchers split work exactly as on the
 * software adapter the CPU backend replaces and both ways of choosing it compute the same.
 */
export const HOST_LIMITS: Readonly<Record<string, number>> = {
  maxBufferSize: 2147483647,
  maxStorageBufferBindingSize: 134217728,
  maxStorageBuffersPerShaderStage: 16,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 1024,
  maxComputeWorkgroupsPerDimension: 65535,
  maxTextureDimension2D: 16384,
  maxUniformBufferBindingSize: 65536,
  maxBindGroups: 8,
};

function refuse(what: string): never {
  throw new Error(`the CPU backend has no GPU device (${what})`);
}

/** A GPUDevice-shaped object with limits and no features; GPU calls throw. */
export function hostDevice(): GPUDevice {
  const queue = {
    submit: () => refuse("queue.submit"),
    writeBuffer: () => refuse("queue.writeBuffer"),
    onSubmittedWorkDone: () => Promise.resolve(),
  };
  const device = {
    label: "cpu",
    limits: { ...HOST_LIMITS },
    features: new Set<string>(),
    queue,
    lost: new Promise<never>(() => {}),
    createBuffer: () => refuse("createBuffer"),
    createTexture: () => refuse("createTexture"),
    createBindGroup: () => refuse("createBindGroup"),
    createCommandEncoder: () => refuse("createCommandEncoder"),
    createQuerySet: () => refuse("createQuerySet"),
    createShaderModule: () => refuse("createShaderModule"),
    createComputePipeline: () => refuse("createComputePipeline"),
    createComputePipelineAsync: () => refuse("createComputePipelineAsync"),
    destroy: () => {},
  };
  return device as unknown as GPUDevice;
}
