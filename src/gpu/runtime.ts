// The compute runtime: tensors, kernel dispatch and readback over the process's one GpuDevice.
//
// Dispatches are recorded into one open command encoder and compute pass and submitted together
// on `flush()` (or before a readback), because per-submit overhead dominates small kernels in
// wgpu. Readback of several tensors uses one staging buffer and one `mapAsync`.
//
// On the CPU backend (backend.ts) tensors live in host memory and each dispatch runs at once, as
// its shader's CPU port (host/), split over every core where the port has parts (host/pool/);
// launchers are the same on both backends. Its device is the adapter's when `auto` chose the CPU
// on a software adapter, else a stand-in with the same limits (host/host_device.ts).

import {
  DeviceLostError,
  GpuDevice,
  type GpuDeviceOptions,
  GpuUnavailableError,
} from "./device.ts";
import type { DispatchProfiler } from "./profiler.ts";
import {
  type BackendSetting,
  chooseBackend,
  type ComputeBackend,
  defaultCpuThreads,
  MAX_CPU_THREADS,
} from "./backend.ts";
import { linearAlgebraStatus } from "../linalg/select.ts";
import { HostBuffer } from "./host/host_buffer.ts";
import { hostPipelineKey, HostPipelines } from "./host/host_pipelines.ts";
import { type HostCall, hostKernelName } from "./host/host_kernel.ts";
import { HostPool } from "./host/pool/host_pool.ts";
import { hostSplitKernel } from "./host/pool/split_table.ts";
import { hostKernel } from "./host/kernel_table.ts";
import { PipelineCache, type PipelineKey, type PipelineSource } from "./shaders.ts";
import {
  assertShape,
  type Shape,
  shapeSize,
  Tensor,
  type TensorBuffer,
  type TensorOwner,
} from "./tensor.ts";

export type { BackendSetting, ComputeBackend } from "./backend.ts";

/** Uniform parameters: u32 fields first, then f32 fields, matching the shader's Params struct. */
export interface KernelParams {
  u?: readonly number[];
  f?: readonly number[];
}

export interface DispatchRequest {
  pipeline: PipelineKey;
  /**
   * Storage buffers and texture views in binding order, after the uniform at binding 0 when
   * `params` is given.
   */
  bindings: readonly (Tensor | GPUBuffer | HostBuffer | GPUTextureView)[];
  params?: KernelParams;
  workgroups: readonly [number, number?, number?];
}

const STORAGE = 0x0080; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x0004;
const COPY_DST = 0x0008;
const MAP_READ = 0x0001;
const UNIFORM = 0x0040;
const TEXTURE_BINDING = 0x04; // GPUTextureUsage.TEXTURE_BINDING
const STORAGE_BINDING = 0x08;
/** Scratch textures kept for reuse (the newest one is kept even if larger). */
const SCRATCH_TEXTURE_BYTES = 512 * 2 ** 20;

class LruMap<K, V> extends Map<K, V> {
  constructor(private readonly capacity: number, private readonly onEvict?: (v: V) => void) {
    super();
  }
  touch(key: K): V | undefined {
    const value = super.get(key);
    if (value !== undefined) {
      super.delete(key);
      super.set(key, value);
    }
    return value;
  }
  put(key: K, value: V): void {
    super.set(key, value);
    if (this.size > this.capacity) {
      const oldest = this.keys().next().value as K;
      const evicted = super.get(oldest);
      super.delete(oldest);
      if (evicted !== undefined) this.onEvict?.(evicted);
    }
  }
}

/**
 * The CPU backend computes inside the dispatching call, so a long job would hold the event loop
 * from start to end. A readback or sync is where work waits for the GPU on the other backend;
 * here it lets requests, streams and heartbeats in (a macrotask turn, about a millisecond).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export interface RuntimeOptions extends GpuDeviceOptions {
  /** Where kernels run (backend.ts); default webgpu. The service passes SIMFLUENCE_BACKEND. */
  backend?: BackendSetting;
  /**
   * The CPU backend's threads for split kernels (host/pool/), the dispatching one included;
   * default every core the runtime reports (navigator.hardwareConcurrency), at most 16.
   */
  cpuThreads?: number;
}

function cpuThreadsOf(options: RuntimeOptions): number {
  const wanted = options.cpuThreads ?? defaultCpuThreads();
  if (!Number.isInteger(wanted) || wanted < 1) {
    throw new RangeError(`cpuThreads = ${wanted} must be a positive integer`);
  }
  return Math.min(MAX_CPU_THREADS, wanted);
}

export class GpuRuntime implements TensorOwner {
  readonly pipelines: PipelineSource;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private bufferIds = new WeakMap<GPUBuffer | HostBuffer | GPUTextureView, number>();
  private nextBufferId = 1;
  // Scratch textures by role and size (matmul's packed operands): a model step uses a dozen
  // sizes, each reused every step, so they stay cached up to a byte budget (re-creating one
  // costs an allocation and zero-fill as large as the operand). Evicted ones may sit in
  // recorded, unsubmitted commands: submit those before destroying.
  private textures = new Map<
    string,
    { texture: GPUTexture; view: GPUTextureView; bytes: number }
  >();
  private textureBytes = 0;
  // Evicted uniforms may sit in recorded, unsubmitted commands: submit those before destroying.
  private uniforms = new LruMap<string, GPUBuffer>(2048, (buffer) => {
    this.flush();
    buffer.destroy();
  });
  private bindGroups = new LruMap<string, GPUBindGroup>(4096);
  private cacheGeneration: number;
  dispatchCount = 0;
  /** The CPU backend's worker threads (host/pool/host_pool.ts), when it has more than one. */
  readonly pool: HostPool | null;
  /** While set, each dispatch gets its own timed pass (see profiler.ts). */
  profiler: DispatchProfiler | null = null;

  private constructor(
    readonly gpu: GpuDevice,
    readonly backend: ComputeBackend,
    /** Why this backend, in one line (start-up log, /v1/device). */
    readonly backendReason: string,
    cpuThreads = 1,
  ) {
    this.pipelines = backend === "cpu" ? new HostPipelines() : new PipelineCache(gpu);
    this.pool = backend === "cpu" && cpuThreads > 1 ? new HostPool(cpuThreads) : null;
    this.cacheGeneration = gpu.generation;
  }

  static async create(options: RuntimeOptions = {}): Promise<GpuRuntime> {
    const setting = options.backend ?? "webgpu";
    const threads = cpuThreadsOf(options);
    const status = linearAlgebraStatus();
    const blas = { available: status.backend === "openblas", reason: status.unavailableReason };
    // The CPU backend by name opens no adapter at all (host/host_device.ts says why).
    if (setting === "cpu") {
      const choice = chooseBackend(setting, null, blas);
      return new GpuRuntime(GpuDevice.host(), choice.backend, choice.reason, threads);
    }
    let gpu: GpuDevice;
    try {
      gpu = await GpuDevice.acquire(options);
    } catch (e) {
      // `auto` on a host without any adapter still runs, on the CPU, when OpenBLAS is there.
      if (setting !== "auto" || !(e instanceof GpuUnavailableError) || !blas.available) throw e;
      const choice = chooseBackend(setting, null, blas);
      return new GpuRuntime(GpuDevice.host(), choice.backend, choice.reason, threads);
    }
    try {
      const choice = chooseBackend(setting, gpu.describe(), blas);
      return new GpuRuntime(gpu, choice.backend, choice.reason, threads);
    } catch (e) {
      gpu.close();
      throw e;
    }
  }

  get isHost(): boolean {
    return this.backend === "cpu";
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  get generation(): number {
    return this.gpu.generation;
  }

  // ---- tensors -------------------------------------------------------------------------------

  /** Bytes of tensor buffers alive now, and the most alive at once since `resetPeakBytes`. */
  liveBytes = 0;
  peakBytes = 0;

  resetPeakBytes(): void {
    this.peakBytes = this.liveBytes;
  }

  private createBuffer(bytes: number, mapped = false): TensorBuffer {
    // Zero-sized bindings are invalid; keep at least one element.
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    if (this.isHost) return new HostBuffer(size, this.pool !== null);
    return this.device.createBuffer({
      size,
      usage: STORAGE | COPY_SRC | COPY_DST,
      mappedAtCreation: mapped,
    });
  }

  /** A new zero-filled tensor. */
  zeros(shape: Shape): Tensor {
    assertShape(shape);
    return new Tensor(this, this.createBuffer(shapeSize(shape) * 4), [...shape]);
  }

  /** A new tensor holding `data` (row-major). */
  tensor(data: ArrayLike<number>, shape: Shape = [data.length]): Tensor {
    assertShape(shape);
    const size = shapeSize(shape);
    if (data.length !== size) {
      throw new RangeError(`data length ${data.length} does not match shape [${shape}] (${size})`);
    }
    const buffer = this.createBuffer(size * 4, true);
    if (buffer instanceof HostBuffer) {
      buffer.f32.set(data);
    } else {
      new Float32Array(buffer.getMappedRange(), 0, size).set(data);
      buffer.unmap();
    }
    return new Tensor(this, buffer, [...shape]);
  }

  /** Overwrites a contiguous tensor's contents, ordered after all work recorded so far. */
  write(target: Tensor, data: Float32Array<ArrayBuffer>): void {
    this.checkTensor(target, "write target");
    if (!target.isContiguous || data.length !== target.size) {
      throw new RangeError(`write needs a contiguous tensor of ${data.length} elements`);
    }
    if (target.buffer instanceof HostBuffer) {
      target.buffer.f32.set(data, target.offset);
      return;
    }
    this.flush();
    this.device.queue.writeBuffer(target.buffer, target.offset * 4, data);
  }

  /**
   * A storage buffer of u32 data (index structures, which Tensor's f32 does not model), bound
   * like a tensor's buffer; the caller frees it with `release`, which counts it out of liveBytes.
   */
  u32Storage(data: Uint32Array): GPUBuffer | HostBuffer {
    const size = Math.max(4, data.byteLength);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
    if (this.isHost) {
      const host = new HostBuffer(data.byteLength, this.pool !== null);
      host.u32.set(data);
      return host;
    }
    const buffer = this.device.createBuffer({
      size,
      usage: STORAGE | COPY_DST,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange(), 0, data.length).set(data);
    buffer.unmap();
    return buffer;
  }

  release(buffer: TensorBuffer): void {
    // Destroy is deferred by WebGPU until submitted work using the buffer completes.
    this.flush();
    this.liveBytes -= buffer.size;
    buffer.destroy();
  }

  private checkTensor(t: Tensor, what: string): void {
    if (t.isDisposed) throw new Error(`${what} (tensor ${t.id}) was disposed`);
    // Host memory survives a device loss.
    if (!this.isHost) this.gpu.assertGeneration(t.generation, `${what} (tensor ${t.id})`);
  }

  private gpuBuffer(t: Tensor): GPUBuffer {
    if (t.buffer instanceof HostBuffer) throw new Error(`tensor ${t.id} lives in host memory`);
    return t.buffer;
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /**
   * The view of a scratch rgba32float texture (storage-writable and sampled) for `role`, reused by
   * later calls with the same role and size (one view each, so bind groups stay cached); its
   * contents are whatever the last user left.
   */
  scratchTexture(role: string, width: number, height: number): GPUTextureView {
    if (this.isHost) throw new Error("the CPU backend has no textures");
    this.resetCachesIfLost();
    const key = `${role}:${width}x${height}`;
    let entry = this.textures.get(key);
    if (entry) {
      this.textures.delete(key); // most recently used last
    } else {
      const texture = this.device.createTexture({
        label: key,
        size: [width, height],
        format: "rgba32float",
        usage: TEXTURE_BINDING | STORAGE_BINDING,
      });
      entry = { texture, view: texture.createView(), bytes: 16 * width * height };
      this.textureBytes += entry.bytes;
      for (const [oldKey, old] of this.textures) {
        if (this.textureBytes <= SCRATCH_TEXTURE_BYTES) break;
        this.flush();
        old.texture.destroy();
        this.textures.delete(oldKey);
        this.textureBytes -= old.bytes;
      }
    }
    this.textures.set(key, entry);
    return entry.view;
  }

  private bufferId(buffer: GPUBuffer | HostBuffer | GPUTextureView): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  private resetCachesIfLost(): void {
    if (this.cacheGeneration !== this.gpu.generation) {
      this.uniforms.clear();
      this.bindGroups.clear();
      this.textures.clear();
      this.textureBytes = 0;
      this.encoder = null;
      this.pass = null;
      this.cacheGeneration = this.gpu.generation;
    }
  }

  private uniformFor(params: KernelParams): { buffer: GPUBuffer; key: string } {
    const u = params.u ?? [];
    const f = params.f ?? [];
    const key = `${u.join(",")}|${f.join(",")}`;
    let buffer = this.uniforms.touch(key);
    if (!buffer) {
      const count = Math.max(4, Math.ceil((u.length + f.length) / 4) * 4);
      const bytes = new ArrayBuffer(count * 4);
      const asU32 = new Uint32Array(bytes);
      const asF32 = new Float32Array(bytes);
      u.forEach((v, i) => {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new RangeError(`u32 kernel parameter ${i} = ${v} is out of range`);
        }
        asU32[i] = v;
      });
      f.forEach((v, i) => (asF32[u.length + i] = v));
      buffer = this.device.createBuffer({ size: bytes.byteLength, usage: UNIFORM | COPY_DST });
      this.device.queue.writeBuffer(buffer, 0, bytes);
      this.uniforms.put(key, buffer);
    }
    return { buffer, key };
  }

  /** Records one kernel launch; it runs at the next flush. */
  async dispatch(request: DispatchRequest): Promise<void> {
    const pipeline = await this.pipelines.get(request.pipeline);
    this.record(pipeline, request);
  }

  /** Like dispatch, for a pipeline already fetched (hot loops avoid an await per launch). */
  record(pipeline: GPUComputePipeline, request: DispatchRequest): void {
    if (this.isHost) {
      this.runOnHost(pipeline, request);
      return;
    }
    this.resetCachesIfLost();
    if (!this.gpu.healthy) {
      throw new DeviceLostError(`GPU device lost (${this.gpu.lostReason ?? "closing"})`);
    }
    const buffers: (GPUBuffer | GPUTextureView)[] = request.bindings.map((b, i) => {
      if (b instanceof Tensor) {
        this.checkTensor(b, `binding ${i}`);
        return this.gpuBuffer(b);
      }
      if (b instanceof HostBuffer) throw new Error(`binding ${i} lives in host memory`);
      return b;
    });
    const uniform = request.params ? this.uniformFor(request.params) : null;
    const groupKey = `${pipeline.label}|${uniform ? this.bufferId(uniform.buffer) : "-"}|${
      buffers.map((b) => this.bufferId(b)).join(",")
    }`;
    let bindGroup = this.bindGroups.touch(groupKey);
    if (!bindGroup) {
      const entries: GPUBindGroupEntry[] = [];
      if (uniform) entries.push({ binding: 0, resource: { buffer: uniform.buffer } });
      const first = uniform ? 1 : 0;
      buffers.forEach((b, i) =>
        entries.push({
          binding: first + i,
          resource: b instanceof GPUTextureView ? b : { buffer: b },
        })
      );
      bindGroup = this.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries,
      });
      this.bindGroups.put(groupKey, bindGroup);
    }
    const [x, y, z] = this.workgroupsOf(request);
    if (x === 0 || y === 0 || z === 0) return;
    const profiled = this.profiler?.passFor(pipeline.label);
    const pass = profiled ? this.openEncoder().beginComputePass(profiled) : this.openPass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    if (profiled) {
      pass.end();
      if (this.profiler!.mode === "wall") {
        this.flush();
        this.profiler!.submittedAlone(this.device.queue);
      }
    }
  }

  /** The request's workgroup counts, checked against the device's limit on both backends. */
  private workgroupsOf(request: DispatchRequest): [number, number, number] {
    const [x, y = 1, z = 1] = request.workgroups;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(
        `dispatch [${x}, ${y}, ${z}] exceeds ${maxDim} workgroups per dimension`,
      );
    }
    return [x, y, z];
  }

  /** The CPU backend's dispatch: the shader's CPU port, run now. */
  private runOnHost(pipeline: GPUComputePipeline, request: DispatchRequest): void {
    const key = hostPipelineKey(pipeline);
    const name = hostKernelName(key);
    const kernel = hostKernel(name);
    if (!kernel) {
      throw new Error(`the CPU backend has no port of ${name} (shaders/${key.shader}.wgsl)`);
    }
    const buffers = request.bindings.map((b, i) => {
      if (b instanceof Tensor) {
        this.checkTensor(b, `binding ${i}`);
        b = b.buffer;
      }
      if (!(b instanceof HostBuffer)) {
        throw new Error(`${name}: binding ${i} is not in host memory`);
      }
      return b;
    });
    const u = request.params?.u ?? [];
    u.forEach((v, i) => {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
        throw new RangeError(`u32 kernel parameter ${i} = ${v} is out of range`);
      }
    });
    const [x, y, z] = this.workgroupsOf(request);
    if (x === 0 || y === 0 || z === 0) return;
    const call: HostCall = {
      key,
      defines: key.defines ?? {},
      overrides: key.overrides ?? {},
      buffers,
      u,
      f: (request.params?.f ?? []).map(Math.fround),
      workgroups: [x, y, z],
    };
    const split = this.pool ? hostSplitKernel(name) : undefined;
    this.timedOnHost(
      pipeline.label,
      () => split ? this.pool!.run(name, call, split) : kernel(call),
    );
    this.dispatchCount++;
  }

  /**
   * Runs CPU-backend work, timed under `label` while a profiler is set (the profiler must be in
   * wall mode: there is no GPU timestamp to take).
   */
  timedOnHost(label: string, work: () => void): void {
    const timed = this.profiler?.passFor(label);
    if (!timed) {
      work();
      return;
    }
    const started = performance.now();
    work();
    this.profiler!.ranOnHost(started, performance.now());
  }

  private openPass(): GPUComputePassEncoder {
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    if (!this.pass) this.pass = this.encoder.beginComputePass();
    return this.pass;
  }

  private openEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (!this.encoder) this.encoder = this.device.createCommandEncoder();
    return this.encoder;
  }

  /** Copies `size` elements between buffers, ordered with the recorded dispatches. */
  copy(src: Tensor, dst: Tensor, size = src.size): void {
    this.checkTensor(src, "copy source");
    this.checkTensor(dst, "copy destination");
    if (src.buffer instanceof HostBuffer && dst.buffer instanceof HostBuffer) {
      dst.buffer.f32.set(src.buffer.f32.subarray(src.offset, src.offset + size), dst.offset);
      return;
    }
    this.openEncoder().copyBufferToBuffer(
      this.gpuBuffer(src),
      src.offset * 4,
      this.gpuBuffer(dst),
      dst.offset * 4,
      size * 4,
    );
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder || this.isHost) return;
    const encoder = this.openEncoder();
    this.encoder = null;
    this.device.queue.submit([encoder.finish()]);
  }

  /** Resolves when all submitted work has finished; rejects if the device is lost meanwhile. */
  async sync(): Promise<void> {
    if (this.isHost) return await yieldToEventLoop();
    this.flush();
    await this.gpu.guard(this.device.queue.onSubmittedWorkDone());
  }

  /** Reads tensors back with one staging buffer and one map. Views must be contiguous. */
  async read(tensors: readonly Tensor[]): Promise<Float32Array[]> {
    let total = 0;
    const offsets: number[] = [];
    for (const [i, t] of tensors.entries()) {
      this.checkTensor(t, `readback ${i}`);
      if (!t.isContiguous) throw new Error(`readback ${i}: tensor ${t.id} is not contiguous`);
      offsets.push(total);
      total += t.size;
    }
    if (this.isHost) {
      const copies = tensors.map((t) =>
        (t.buffer as HostBuffer).f32.slice(t.offset, t.offset + t.size)
      );
      await yieldToEventLoop();
      return copies;
    }
    const staging = this.device.createBuffer({
      size: Math.max(4, total * 4),
      usage: MAP_READ | COPY_DST,
    });
    const encoder = this.openEncoder();
    tensors.forEach((t, i) => {
      if (t.size > 0) {
        encoder.copyBufferToBuffer(
          this.gpuBuffer(t),
          t.offset * 4,
          staging,
          offsets[i] * 4,
          t.size * 4,
        );
      }
    });
    this.flush();
    try {
      await this.gpu.guard(staging.mapAsync(1 /* GPUMapMode.READ */));
      const all = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      return tensors.map((t, i) => all.subarray(offsets[i], offsets[i] + t.size));
    } finally {
      staging.destroy();
    }
  }

  async readOne(tensor: Tensor): Promise<Float32Array> {
    return (await this.read([tensor]))[0];
  }

  close(): void {
    this.pass?.end();
    this.pass = null;
    this.encoder = null;
    this.pool?.close();
    this.gpu.close();
  }
}
