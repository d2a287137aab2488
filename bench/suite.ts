// The shape every benchmark suite reports in: a figure of ours next to a baseline measured in the
// same run, so the ratio is meaningful on a shared, noisy machine. Values are medians.
import type { GpuRuntime } from "../src/gpu/runtime.ts";

export interface BenchFigure {
  /** What was measured, e.g. "matmul 1024x1024x1024". */
  name: string;
  unit: string;
  /** Median of our implementation; for times lower is better, for rates higher is better. */
  value: number;
  baselineName: string | null;
  baseline: number | null;
  /** value / baseline for rates, baseline / value for times: > 1 means we are faster. */
  speedup: number | null;
  target?: string;
  notes?: string;
  /**
   * Where `value` was measured (webgpu or cpu, "cpu vs webgpu" for a row that sets one backend
   * against the other); main.ts fills in the run's backend where a suite leaves it unset.
   */
  backend?: string;
}

export interface BenchSuite {
  name: string;
  /** Too long for every run (e.g. GPT-2-124M on a CPU adapter): runs only with --suite NAME. */
  onlyWhenNamed?: boolean;
  run(rt: GpuRuntime, options: BenchOptions): Promise<BenchFigure[]>;
}

export interface BenchOptions {
  quick: boolean;
  /** --peak-tflops: the adapter's FP32 peak, where bench/gpu.ts's table does not know it. */
  peakTflops?: number;
}
