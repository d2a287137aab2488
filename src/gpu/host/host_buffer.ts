// A tensor's storage on the CPU backend: host memory standing in for a GPU buffer. One
// ArrayBuffer with f32, u32 and i32 views, because WGSL kernels bind the same storage as
// `array<f32>`, `array<u32>` or `array<i32>` and their CPU ports read it the same way.

export class HostBuffer {
  readonly f32: Float32Array<ArrayBuffer>;
  readonly u32: Uint32Array<ArrayBuffer>;
  readonly i32: Int32Array<ArrayBuffer>;
  private destroyed = false;

  /** The memory; a worker thread is handed it when it is shared. */
  readonly storage: ArrayBuffer | SharedArrayBuffer;

  /**
   * `bytes` is rounded up to whole 4-byte words, at least one. `shared` memory (a
   * SharedArrayBuffer) can be handed to the CPU worker threads (pool/host_pool.ts); the views keep
   * the ArrayBuffer type, since no port cares which kind backs them. Given a SharedArrayBuffer,
   * the buffer is a view of that memory (a worker thread's side).
   */
  constructor(bytes: number | SharedArrayBuffer, shared = false) {
    if (typeof bytes === "number") {
      const words = Math.max(1, Math.ceil(bytes / 4));
      this.storage = shared ? new SharedArrayBuffer(words * 4) : new ArrayBuffer(words * 4);
    } else {
      this.storage = bytes;
    }
    const views = this.storage as ArrayBuffer;
    this.f32 = new Float32Array(views);
    this.u32 = new Uint32Array(views);
    this.i32 = new Int32Array(views);
  }

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
