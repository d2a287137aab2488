// A tensor's storage on the CPU backend: host memory standing in for a GPU buffer. One
// ArrayBuffer with f32, u32 and i32 views, because WGSL kernels bind the same storage as
// `array<f32>`, `array<u32>` or `array<i32>` and their CPU ports read it the same way.

export class HostBuffer {
  readonly f32: Float32Array<ArrayBuffer>;
  readonly u32: Uint32Array<ArrayBuffer>;
  readonly i32: Int32Array<ArrayBuffer>;
  private destroyed = false;

  /**
   * `bytes` is rounded up to whole 4-byte words, at least one. `shared` memory (a
   * SharedArrayBuffer) can be handed to the CPU worker threads (pool/host_pool.ts); the views keep
   * the ArrayBuffer type, since no port cares which kind backs them.
   */
  constructor(bytes: number, shared = false) {
    const words = Math.max(1, Math.ceil(bytes / 4));
    const storage =
      (shared ? new SharedArrayBuffer(words * 4) : new ArrayBuffer(words * 4)) as ArrayBuffer;
    this.storage = storage;
    this.f32 = new Float32Array(storage);
    this.u32 = new Uint32Array(storage);
    this.i32 = new Int32Array(storage);
  }

  /** A worker thread's view of a buffer it was handed. */
  static over(storage: SharedArrayBuffer): HostBuffer {
    const buffer = Object.create(HostBuffer.prototype) as HostBuffer;
    const views = storage as unknown as ArrayBuffer;
    Object.assign(buffer, {
      storage,
      destroyed: false,
      f32: new Float32Array(views),
      u32: new Uint32Array(views),
      i32: new Int32Array(views),
    });
    return buffer;
  }

  /** The memory, for a worker thread when it is shared. */
  readonly storage: ArrayBuffer | SharedArrayBuffer;

  get shared(): boolean {
    return this.storage instanceof SharedArrayBuffer;
  }

  /** Bytes, as GPUBuffer.size reports them. */
  get size(): number {
    return this.f32.byteLength;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Marks the buffer released; its memory goes with the last reference. */
  destroy(): void {
    this.destroyed = true;
  }
}
