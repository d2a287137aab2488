// Argument checks shared by the kernels: shapes, contiguity and buffer aliasing, reported as
// RangeErrors that name the offending shapes.
import type { Tensor } from "../tensor.ts";

export function shapeText(t: Tensor): string {
  return `[${t.shape.join(", ")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function requireContiguous(kernel: string, named: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(named)) {
    if (!t.isContiguous) {
      throw new RangeError(
        `${kernel}: ${name} ${shapeText(t)} with strides [${
          t.strides.join(", ")
        }] is not contiguous`,
      );
    }
  }
}

export function requireSameShape(kernel: string, named: Record<string, Tensor>): void {
  const entries = Object.entries(named);
  const [firstName, first] = entries[0];
  for (const [name, t] of entries.slice(1)) {
    if (!sameShape(first.shape, t.shape)) {
      throw new RangeError(
        `${kernel}: ${name} ${shapeText(t)} does not match ${firstName} ${shapeText(first)}`,
      );
    }
  }
}

/**
 * A dispatch may not bind one buffer both read-only and writable, so an output must live in a
 * buffer of its own (in-place variants are separate kernels).
 */
export function requireDistinctBuffers(
  kernel: string,
  output: [string, Tensor],
  inputs: Record<string, Tensor>,
): void {
  const [outName, out] = output;
  for (const [name, t] of Object.entries(inputs)) {
    if (t.buffer === out.buffer) {
      throw new RangeError(
        `${kernel}: ${outName} ${shapeText(out)} shares a GPU buffer with ${name} ${shapeText(t)}` +
          " (only exact in-place use is supported, where offered)",
      );
    }
  }
}

/** The same elements of the same buffer: the case in-place kernels handle. */
export function isSameRegion(a: Tensor, b: Tensor): boolean {
  return a.buffer === b.buffer && a.offset === b.offset && a.size === b.size &&
    a.isContiguous && b.isContiguous;
}

export function requirePowerOfTwo(kernel: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || (value & (value - 1)) !== 0) {
    throw new RangeError(`${kernel}: ${name} ${value} must be a power of two`);
  }
}
