// The compute runtime: tensors, kernel dispatch and readback over the process's one GpuDevice.
//
// Dispatches are recorded into one open command encoder and compute pass and submitted together
// on `flush()` (or before a readback), because per-submit overhead dominates small kernels in
// wgpu. Readback of several tensors uses one staging buffer and one `mapAsync`.

import { DeviceLostError, GpuDevice, type GpuDeviceOptions } from "./device.ts";
import type { DispatchProfiler } from "./profiler.ts";
import { PipelineCache, type PipelineKey } from "./shaders.ts";
import { assertShape, type Shape, shapeSize, Tensor, type TensorOwner } from "./tensor.ts";

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
  bindings: readonly (Tensor | GPUBuffer | GPUTextureView)[];
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

export class GpuRuntime implements TensorOwner {
  readonly pipelines: PipelineCache;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private bufferIds = new WeakMap<GPUBuffer | GPUTextureView, number>();
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
  /** While set, each dispatch gets its own timed pass (see profiler.ts). */
  profiler: DispatchProfiler | null = null;

  private constructor(readonly gpu: GpuDevice) {
    this.pipelines = new PipelineCache(gpu);
    this.cacheGeneration = gpu.generation;
  }

  static async create(options: GpuDeviceOptions = {}): Promise<GpuRuntime> {
    const gpu = await GpuDevice.acquire(options);
    return new GpuRuntime(gpu);
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

  private createBuffer(bytes: number, mapped = false): GPUBuffer {
    // Zero-sized bindings are invalid; keep at least one element.
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    this.liveBytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.liveBytes);
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
    new Float32Array(buffer.getMappedRange(), 0, size).set(data);
    buffer.unmap();
    return new Tensor(this, buffer, [...shape]);
  }

  /** Overwrites a contiguous tensor's contents, ordered after all work recorded so far. */
  write(target: Tensor, data: Float32Array<ArrayBuffer>): void {
    this.checkTensor(target, "write target");
    if (!target.isContiguous || data.length !== target.size) {
      throw new RangeError(`write needs a contiguous tensor of ${data.length} elements`);
    }
    this.flush();
    this.device.queue.writeBuffer(target.buffer, target.offset * 4, data);
  }

  release(buffer: GPUBuffer): void {
    // Destroy is deferred by WebGPU until submitted work using the buffer completes.
    this.flush();
    this.liveBytes -= buffer.size;
    buffer.destroy();
  }

  private checkTensor(t: Tensor, what: string): void {
    if (t.isDisposed) throw new Error(`${what} (tensor ${t.id}) was disposed`);
    this.gpu.assertGeneration(t.generation, `${what} (tensor ${t.id})`);
  }

  // ---- dispatch ------------------------------------------------------------------------------

  /**
   * The view of a scratch rgba32float texture (storage-writable and sampled) for `role`, reused by
   * later calls with the same role and size (one view each, so bind groups stay cached); its
   * contents are whatever the last user left.
   */
  scratchTexture(role: string, width: number, height: number): GPUTextureView {
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

  private bufferId(buffer: GPUBuffer | GPUTextureView): number {
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
    this.resetCachesIfLost();
    if (!this.gpu.healthy) {
      throw new DeviceLostError(`GPU device lost (${this.gpu.lostReason ?? "closing"})`);
    }
    const buffers: (GPUBuffer | GPUTextureView)[] = request.bindings.map((b, i) => {
      if (b instanceof Tensor) {
        this.checkTensor(b, `binding ${i}`);
        return b.buffer;
      }
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
    const [x, y = 1, z = 1] = request.workgroups;
    const maxDim = this.device.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new RangeError(
        `dispatch [${x}, ${y}, ${z}] exceeds ${maxDim} workgroups per dimension`,
      );
    }
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
    this.openEncoder().copyBufferToBuffer(
      src.buffer,
      src.offset * 4,
      dst.buffer,
      dst.offset * 4,
      size * 4,
    );
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.openEncoder();
    this.encoder = null;
    this.device.queue.submit([encoder.finish()]);
  }

  /** Resolves when all submitted work has finished; rejects if the device is lost meanwhile. */
  async sync(): Promise<void> {
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
    const staging = this.device.createBuffer({
      size: Math.max(4, total * 4),
      usage: MAP_READ | COPY_DST,
    });
    const encoder = this.openEncoder();
    tensors.forEach((t, i) => {
      if (t.size > 0) {
        encoder.copyBufferToBuffer(t.buffer, t.offset * 4, staging, offsets[i] * 4, t.size * 4);
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
    this.gpu.close();
  }
}
