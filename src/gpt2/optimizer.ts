// Optimiser settings, the learning-rate schedule (computed on the CPU, passed to the update
// kernel as a parameter) and the GPU optimiser state.
import { z } from "zod";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { Tensor } from "../gpu/tensor.ts";
import { adamwUpdate, sgdUpdate, type UpdateRange } from "./kernels/optimizer.ts";

// Strict objects: a misspelt hyperparameter (`weight_decay`) must be an error, not a silent default.
export const scheduleSchema = z.strictObject({
  warmupSteps: z.number().int().nonnegative().default(0),
  /** Steps over which the decay runs (after warm-up ends); required for linear / cosine. */
  totalSteps: z.number().int().positive().optional(),
  decay: z.enum(["constant", "linear", "cosine"]).default("constant"),
  /** The floor the decay reaches, as a fraction of the base rate. */
  minLrRatio: z.number().min(0).max(1).default(0),
}).refine((s) => s.decay === "constant" || s.totalSteps !== undefined, {
  message: "linear and cosine decay need totalSteps",
  path: ["totalSteps"],
}).refine((s) => s.totalSteps === undefined || s.warmupSteps <= s.totalSteps, {
  message: "warmupSteps cannot exceed totalSteps",
  path: ["warmupSteps"],
});

export const optimizerSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("adamw"),
    lr: z.number().positive(),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.999),
    eps: z.number().positive().default(1e-8),
    /** Added to v̂ under the square root, sqrt(v̂ + epsRoot): smooths the metagradient (0: AdamW). */
    epsRoot: z.number().min(0).default(0),
    weightDecay: z.number().min(0).default(0.01),
    /** Global-norm gradient clipping; 0 disables it. */
    maxGradNorm: z.number().min(0).default(1),
    schedule: scheduleSchema.default({ warmupSteps: 0, decay: "constant", minLrRatio: 0 }),
  }),
  z.strictObject({
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

/**
 * Optimiser state on the GPU, laid out like the model's parameter buffers: one tensor per
 * parameter segment (see layout.ts) for each moment.
 */
export class GpuOptimizer {
  step = 0;
  private constructor(
    readonly config: OptimizerConfig,
    private readonly first: Tensor[],
    private readonly second: Tensor[] | null,
  ) {}

  /** `size`: elements of the one parameter buffer, or of each segment. */
  static create(
    rt: GpuRuntime,
    input: OptimizerConfigInput,
    size: number | readonly number[],
  ): GpuOptimizer {
    const config = optimizerSchema.parse(input);
    const sizes = typeof size === "number" ? [size] : size;
    return new GpuOptimizer(
      config,
      sizes.map((n) => rt.zeros([n])),
      config.kind === "adamw" ? sizes.map((n) => rt.zeros([n])) : null,
    );
  }

  /** The moment buffers of each segment (second: AdamW only), for replaying saved states. */
  moments(): { first: readonly Tensor[]; second: readonly Tensor[] | null } {
    return { first: this.first, second: this.second };
  }

  /** Elements over all segments. */
  get size(): number {
    return this.first.reduce((n, t) => n + t.size, 0);
  }

  /** The learning rate the next step will use. */
  nextLr(): number {
    return learningRate(this.config.lr, this.step + 1, this.config.schedule);
  }

  /** Records one update of every segment's range (in segment order); returns the learning rate used. */
  async apply(
    rt: GpuRuntime,
    ranges: Omit<UpdateRange, "maxNorm"> | readonly Omit<UpdateRange, "maxNorm">[],
  ): Promise<number> {
    const list = Array.isArray(ranges) ? ranges : [ranges as Omit<UpdateRange, "maxNorm">];
    if (
      list.length !== this.first.length || list.some((r, i) => r.params.size !== this.first[i].size)
    ) {
      throw new RangeError(
        `optimizer state has segments [${this.first.map((t) => t.size)}], params [${
          list.map((r) => r.params.size)
        }]`,
      );
    }
    const lr = this.nextLr();
    this.step++;
    const c = this.config;
    for (const [i, range] of list.entries()) {
      const full = { ...range, maxNorm: c.maxGradNorm };
      if (c.kind === "adamw") {
        await adamwUpdate(rt, full, this.first[i], this.second![i], {
          lr,
          beta1: c.beta1,
          beta2: c.beta2,
          eps: c.eps,
          epsRoot: c.epsRoot,
          weightDecay: c.weightDecay,
          step: this.step,
        });
      } else {
        await sgdUpdate(rt, full, this.first[i], {
          lr,
          momentum: c.momentum,
          weightDecay: c.weightDecay,
        });
      }
    }
    return lr;
  }

  /** First and (AdamW) second moments, each with its segments concatenated, for checkpoints and tests. */
  async read(rt: GpuRuntime): Promise<Float32Array[]> {
    const moments = this.second ? [this.first, this.second] : [this.first];
    const parts = await rt.read(moments.flat());
    const S = this.first.length;
    return moments.map((_, k) => {
      const out = new Float32Array(this.size);
      let at = 0;
      for (const part of parts.slice(k * S, (k + 1) * S)) {
        out.set(part, at);
        at += part.length;
      }
      return out;
    });
  }

  dispose(): void {
    for (const t of [...this.first, ...(this.second ?? [])]) t.dispose();
  }
}
