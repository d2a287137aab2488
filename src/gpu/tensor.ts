// An f32 tensor over a GPU buffer (or host memory on the CPU backend): shape, strides (in elements) and an element offset, so that a
// batch slice or a transposed view shares its buffer. Kernels bind whole buffers and receive
// offsets and strides as parameters, which avoids the storage-offset alignment rules.

import type { HostBuffer } from "./host/host_buffer.ts";

export type Shape = readonly number[];

/** A GPU buffer on the WebGPU backend, host memory on the CPU backend. */
export type TensorBuffer = GPUBuffer | HostBuffer;

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

export function shapeSize(shape: Shape): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function assertShape(shape: Shape, what = "shape"): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${what} [${shape.join(", ")}] must hold non-negative integers`);
    }
  }
}

/** What a tensor needs from the runtime that made it; kept narrow to avoid an import cycle. */
export interface TensorOwner {
  readonly generation: number;
  release(buffer: TensorBuffer): void;
}

let nextTensorId = 1;

export class Tensor {
  readonly id = nextTensorId++;
  readonly dtype = "f32";
  private disposed = false;

  constructor(
    readonly owner: TensorOwner,
    readonly buffer: TensorBuffer,
    readonly shape: readonly number[],
    readonly strides: readonly number[] = contiguousStrides(shape),
    readonly offset = 0,
    /** The GPU generation the buffer was made on; a loss invalidates it. */
    readonly generation = owner.generation,
    /** Views share the buffer but do not own it. */
    readonly ownsBuffer = true,
  ) {
    if (shape.length !== strides.length) {
      throw new RangeError(
        `shape rank ${shape.length} differs from strides rank ${strides.length}`,
      );
    }
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return shapeSize(this.shape);
  }

  get isContiguous(): boolean {
    const expected = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === expected[i]);
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** A view onto the same buffer. */
  view(shape: Shape, strides: Shape = contiguousStrides(shape), offset = this.offset): Tensor {
    assertShape(shape);
    return new Tensor(this.owner, this.buffer, shape, strides, offset, this.generation, false);
  }

  /** Same data, new contiguous shape; only valid for contiguous tensors. */
  reshape(shape: Shape): Tensor {
    if (!this.isContiguous) throw new Error("reshape needs a contiguous tensor");
    if (shapeSize(shape) !== this.size) {
      throw new RangeError(`cannot reshape [${this.shape}] into [${shape}]`);
    }
    return this.view(shape);
  }

  /** Swaps the last two axes without moving data. */
  transposeView(): Tensor {
    if (this.rank < 2) throw new RangeError("transposeView needs rank >= 2");
    const shape = [...this.shape];
    const strides = [...this.strides];
    const r = this.rank;
    [shape[r - 2], shape[r - 1]] = [shape[r - 1], shape[r - 2]];
    [strides[r - 2], strides[r - 1]] = [strides[r - 1], strides[r - 2]];
    return this.view(shape, strides);
  }

  /** Index `i` of the leading axis, as a view with one axis fewer. */
  select(i: number): Tensor {
    if (i < 0 || i >= this.shape[0]) {
      throw new RangeError(`index ${i} out of [0, ${this.shape[0]})`);
    }
    return this.view(this.shape.slice(1), this.strides.slice(1), this.offset + i * this.strides[0]);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsBuffer) this.owner.release(this.buffer);
  }
}
