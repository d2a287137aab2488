// Shared by the tests of the GPT-2 engine's own kernels (tests/gpt2/<family>.test.ts): tensors
// placed at non-zero element offsets of larger buffers (offsets matter), and released after
// each test.
import type { GpuRuntime } from "../../src/gpu/runtime.ts";
import type { Tensor } from "../../src/gpu/tensor.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

// Every buffer a test makes, disposed when it ends.
const made: Tensor[] = [];

export function upload(rt: GpuRuntime, data: ArrayLike<number>): Tensor {
  const t = rt.tensor(data);
  made.push(t);
  return t;
}

function disposeAll(): void {
  for (const t of made.splice(0)) t.dispose();
}

/** A tensor of `data` placed at element offset `at` of a larger zero buffer (offsets matter). */
export function placed(rt: GpuRuntime, data: Float32Array, shape: number[], at = 3): Tensor {
  const buffer = new Float32Array(at + data.length + 5);
  buffer.set(data, at);
  return upload(rt, buffer).view(shape, undefined, at);
}

/** A GPU test whose buffers are released afterwards. */
export function kernelTest(name: string, body: (rt: GpuRuntime) => Promise<void>): void {
  Deno.test(name, gpuTest, async () => {
    const rt = await testRuntime();
    try {
      await body(rt);
    } finally {
      disposeAll();
    }
  });
}

/** A view's elements, read through its whole buffer (views at an offset are not read alone). */
export async function readView(rt: GpuRuntime, t: Tensor): Promise<Float32Array> {
  const whole = await rt.readOne(t.view([t.buffer.size / 4], undefined, 0));
  return whole.slice(t.offset, t.offset + t.size);
}
