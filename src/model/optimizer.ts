// Optimiser settings, the learning-rate schedule (computed on the CPU, passed to the update
// kernel as a parameter) and the GPU optimiser state.
import { z } from "zod";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { adamwUpdate, sgdUpdate, type UpdateRange } from "./kernels.ts";

export const scheduleSchema = z.object({
  warmupSteps: z.number().int().nonnegative().default(0),
  /** Steps over which the decay runs (after warm-up ends); required for linear / cosine. */
  totalSteps: z.number().int().positive().optional(),
  decay: z.enum(["constant", "linear", "cosine"]).default("constant"),
  /** The floor the decay reaches, as a fraction of the base rate. */
  minLrRatio: z.number().min(0).max(1).default(0),
}).refine((s) => s.decay === "constant" || s.totalSteps !== undefined, {
  message: "linear and cosine decay need totalSteps",
  path: ["totalSteps"],
});

export const optimizerSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("adamw"),
    lr: z.number().positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    weightDecay: z.number().min(0).default(0.01),
    /** Global-norm gradient clipping; 0 disables it. */
    maxGradNorm: z.number().min(0).default(1),
    schedule: scheduleSchema.default({ warmupSteps: 0, decay: "constant", minLrRatio: 0 }),
  }),
  z.object({
    kind: z.literal("sgd"),
    lr: z.number().positive(),
    momentum: z.number().min(0).lt(1).default(0),
    weightDecay: z.number().min(0).default(0),
    maxGradNorm: z.number().min(0).default(0),
    schedule: scheduleSchema.default({ warmupSteps: 0, decay: "constant", minLrRatio: 0 }),
  }),
]);

export type OptimizerConfig = z.output<typeof optimizerSchema>;
export type OptimizerConfigInput = z.input<typeof optimizerSchema>;
export type Schedule = z.output<typeof scheduleSchema>;

/**
 * The rate at 1-based `step`: linear warm-up to `base` over warmupSteps, then constant, or a
 * linear / cosine decay to minLrRatio·base over the following totalSteps − warmupSteps steps.
 */
export function learningRate(base: number, step: number, s: Schedule): number {
  if (s.warmupSteps > 0 && step <= s.warmupSteps) return base * step / s.warmupSteps;
  if (s.decay === "constant") return base;
  const span = Math.max(1, (s.totalSteps ?? 1) - s.warmupSteps);
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const floor = base * s.minLrRatio;
  const shape = s.decay === "linear" ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return floor + (base - floor) * shape;
}

/** Optimiser state on the GPU, laid out like the model's flat parameter buffer. */
export class GpuOptimizer {
  step = 0;
  private constructor(
    readonly config: OptimizerConfig,
    private readonly first: Tensor,
    private readonly second: Tensor | null,
  ) {}

  static create(rt: GpuRuntime, input: OptimizerConfigInput, size: number): GpuOptimizer {
    const config = optimizerSchema.parse(input);
    return new GpuOptimizer(
      config,
      rt.zeros([size]),
      config.kind === "adamw" ? rt.zeros([size]) : null,
    );
  }

  get size(): number {
    return this.first.size;
  }

  /** The learning rate the next step will use. */
  nextLr(): number {
    return learningRate(this.config.lr, this.step + 1, this.config.schedule);
  }

  /** Records one update of `range`; returns the learning rate used. */
  async apply(rt: GpuRuntime, range: Omit<UpdateRange, "maxNorm">): Promise<number> {
    if (range.params.size !== this.size) {
      throw new RangeError(
        `optimizer state has ${this.size} elements, params ${range.params.size}`,
      );
    }
    const lr = this.nextLr();
    this.step++;
    const c = this.config;
    const full = { ...range, maxNorm: c.maxGradNorm };
    if (c.kind === "adamw") {
      await adamwUpdate(rt, full, this.first, this.second!, {
        lr,
        beta1: c.beta1,
        beta2: c.beta2,
        eps: c.eps,
        weightDecay: c.weightDecay,
        step: this.step,
      });
    } else {
      await sgdUpdate(rt, full, this.first, {
        lr,
        momentum: c.momentum,
        weightDecay: c.weightDecay,
      });
    }
    return lr;
  }

  /** First and (AdamW) second moments, for checkpoints and tests. */
  async read(rt: GpuRuntime): Promise<Float32Array[]> {
    return await rt.read(this.second ? [this.first, this.second] : [this.first]);
  }

  dispose(): void {
    this.first.dispose();
    this.second?.dispose();
  }
}
