// Matmul suite: GFLOP/s of our kernel against a plain-TypeScript triple loop on square and
// transformer-sized f32 problems.
import { matmul, tuneMatmul } from "../src/gpu/kernels/matmul.ts";
import { median, timeGpu } from "../src/gpu/autotune.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

const PROBLEMS: { M: number; K: number; N: number; label?: string; target?: string }[] = [
  { M: 256, K: 256, N: 256 },
  { M: 512, K: 512, N: 512 },
  { M: 1024, K: 1024, N: 1024, target: ">= 25 GFLOP/s on llvmpipe" },
  { M: 2048, K: 2048, N: 2048 },
  { M: 512, K: 768, N: 3072, label: "[512, 768]x[768, 3072]" },
  { M: 512, K: 3072, N: 768, label: "[512, 3072]x[3072, 768]" },
];

/** Only where a real GPU runs it: 137 GFLOP per product would take minutes on llvmpipe. */
const GPU_ONLY_PROBLEMS: typeof PROBLEMS = [
  { M: 4096, K: 4096, N: 4096, target: ">= 50% of the GPU's FP32 peak" },
];

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** out[rows, N] = a[rows, K]·b[K, N], i-k-j order (the cache-friendly plain loop). */
function tsMatmulRows(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  rows: number,
  K: number,
  N: number,
) {
  out.fill(0, 0, rows * N);
  for (let i = 0; i < rows; i++) {
    const o = i * N;
    for (let k = 0; k < K; k++) {
      const aik = a[i * K + k];
      const bk = k * N;
      for (let j = 0; j < N; j++) out[o + j] += aik * b[bk + j];
    }
  }
}

/** GFLOP/s of the TS loop, timing only enough rows for ~`budgetMs` and scaling (rows are independent). */
function tsBaseline(
  a: Float32Array,
  b: Float32Array,
  M: number,
  K: number,
  N: number,
  quick: boolean,
) {
  const budgetMs = quick ? 60 : 150;
  const out = new Float32Array(M * N);
  tsMatmulRows(a, b, out, 1, K, N); // JIT warm-up
  const start = performance.now();
  tsMatmulRows(a, b, out, 1, K, N);
  const perRow = Math.max(performance.now() - start, 0.01);
  const rows = Math.max(1, Math.min(M, Math.round(budgetMs / perRow)));
  const rates: number[] = [];
  for (let r = 0; r < (quick ? 2 : 3); r++) {
    const t0 = performance.now();
    tsMatmulRows(a, b, out, rows, K, N);
    rates.push(2 * rows * K * N / (performance.now() - t0) / 1e6);
  }
  return { gflops: median(rates), rows };
}

export const matmulSuite: BenchSuite = {
  name: "matmul",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    await tuneMatmul(rt, { cacheFile: "bench/results/tune-cache.json", quick });
    const figures: BenchFigure[] = [];
    const fallback = rt.gpu.describe().isFallbackAdapter;
    for (
      const { M, K, N, label, target } of [...PROBLEMS, ...(fallback ? [] : GPU_ONLY_PROBLEMS)]
    ) {
      const ah = values(M * K, 1), bh = values(K * N, 2);
      const a = rt.tensor(ah, [M, K]), b = rt.tensor(bh, [K, N]), out = rt.zeros([M, N]);
      const flops = 2 * M * K * N;
      const big = flops > 4e9;
      try {
        const ms = await timeGpu(rt, () => matmul(rt, a, b, out), {
          warmup: 1,
          reps: quick ? (big ? 2 : 3) : (big ? 3 : 7),
        });
        const ours = flops / ms / 1e6;
        const base = tsBaseline(ah, bh, M, K, N, quick);
        figures.push({
          name: `matmul ${label ?? `${M}x${K}x${N}`} f32`,
          unit: "GFLOP/s",
          value: ours,
          baselineName: "TS i-k-j loop",
          baseline: base.gflops,
          speedup: ours / base.gflops,
          target,
          notes: `median of ${quick ? (big ? 2 : 3) : (big ? 3 : 7)} runs (${
            ms.toFixed(1)
          } ms); baseline sampled on ${base.rows} of ${M} rows`,
        });
      } finally {
        a.dispose();
        b.dispose();
        out.dispose();
      }
    }
    return figures;
  },
};
