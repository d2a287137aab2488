// The request of POST /v1/curricula/optimize and the shapes its answers take (OpenAPI).
import { z } from "@hono/zod-openapi";

const Id = z.string().min(1).max(256);
const IdArray = z.array(Id).max(100_000);

export const OPTIMIZE_DEFAULTS = {
  at: "final",
  order: "keep",
  seed: 0,
  randomCurricula: 8,
  stepSize: 0.5,
  search: { restarts: 4, rounds: 150, candidates: 64, stepEffect: "sum" },
  bootstrap: { resamples: 2000, confidence: 0.95 },
} as const;

export const ObjectiveSchema = z.object({
  tests: z.union([z.literal("all"), z.array(Id).min(1).max(10_000)]).openapi({
    description: 'The study\'s test examples whose loss is lowered, or "all"',
  }),
  at: z.enum(["final", "mean"]).default(OPTIMIZE_DEFAULTS.at).openapi({
    description: '"final": the loss after the last step; "mean": the mean over steps 1…T ' +
      "(simulator method only)",
  }),
  weights: z.record(Id, z.number().min(0).max(1e6)).optional().openapi({
    description: "Weight of each listed test example in the objective (default 1 each); the " +
      "objective is the weighted mean of their losses",
  }),
}).strict().openapi("CurriculumObjective");

export const BudgetSchema = z.union([
  z.object({ subsetSize: z.number().int().min(1).max(1_000_000) }).strict(),
  z.object({ dropFraction: z.number().gt(0).lt(1) }).strict(),
]).openapi("CurriculumBudget", {
  description: "How many of the study curriculum's distinct training examples to keep: a count, " +
    "or a fraction dropped (kept = round((1 − f)·n))",
});

export const MethodSchema = z.union([
  z.object({ simulator: Id }).strict(),
  z.object({ scores: Id }).strict(),
  z.object({
    metagradient: z.object({
      run: Id.openapi({ description: "A run of the study recorded here with AdamW (replayable)" }),
      iterations: z.number().int().min(1).max(100),
      stepSize: z.number().positive().max(100).optional().openapi({
        description: `Step in weight space, relative to the mean |metagradient| (default ` +
          `${OPTIMIZE_DEFAULTS.stepSize})`,
      }),
    }).strict(),
  }).strict(),
]).openapi("CurriculumMethod", {
  description: "simulator: search by rollouts through a ready simulator of the study; scores: " +
    "drop the examples whose summed scores over the objective's tests are most harmful (the " +
    "baseline); metagradient: metagradient descent on continuous data weights, rounded to the " +
    "budget",
});

export const OptimizeRequestSchema = z.object({
  study: Id,
  objective: ObjectiveSchema,
  budget: BudgetSchema,
  order: z.enum(["keep", "optimize"]).default(OPTIMIZE_DEFAULTS.order).openapi({
    description: '"optimize" also searches the order of the kept batches (simulator method only)',
  }),
  keep: IdArray.optional().openapi({ description: "Training ids always kept" }),
  exclude: IdArray.optional().openapi({ description: "Training ids always dropped" }),
  method: MethodSchema,
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(OPTIMIZE_DEFAULTS.seed),
  verify: z.object({
    runs: z.number().int().min(2).max(64).openapi({
      description: "Random curricula of the same budget recorded beside the optimised one",
    }),
    resamples: z.number().int().min(100).max(100_000).optional(),
  }).strict().optional().openapi({
    description: "Record real runs (the base run's model, dataset, seed, optimiser and schedule) " +
      "on the optimised curriculum and on `runs` random ones of the same budget",
  }),
  baseRun: Id.optional().openapi({
    description: "The study's own curriculum: a run of the study (id or name) whose batches the " +
      "candidates are cut from. Default: the metagradient method's run, else the study's oldest " +
      "recorded run that is not a mask run (else its oldest run)",
  }),
  randomCurricula: z.number().int().min(2).max(256).optional().openapi({
    description: "Random curricula predicted beside the optimised one (default: verify.runs, " +
      `else ${OPTIMIZE_DEFAULTS.randomCurricula}); the first verify.runs are the ones recorded`,
  }),
  search: z.object({
    restarts: z.number().int().min(1).max(64).optional(),
    rounds: z.number().int().min(1).max(100_000).optional(),
    candidates: z.number().int().min(1).max(4096).optional(),
    stepEffect: z.enum(["sum", "mean"]).optional().openapi({
      description: '"sum" (default): Simfluence\'s rollout; "mean": each step\'s sums scaled by ' +
        "p̄/p_t, the fitting runs' mean entries per step over the entries the candidate keeps " +
        "in it (an AdamW step moves about as far whatever number of examples it averages)",
    }),
  }).strict().optional().openapi({
    description: "Simulator method: seeded restarts, rounds per restart, candidate curricula " +
      "evaluated per round in one batched rollout (defaults 4, 150, 64), and how a step's " +
      'effects combine (default "sum")',
  }),
}).strict().openapi("OptimizeRequest");

export type OptimizeRequest = z.infer<typeof OptimizeRequestSchema>;

// ---- answers ----

const Contribution = z.object({
  id: z.string(),
  contribution: z.number().nullable().openapi({
    description: "Predicted change of the objective caused by the example's presence in the " +
      "chosen curriculum (negative: it lowers the loss)",
  }),
});

const Prediction = z.object({
  objective: z.number().nullable(),
  trajectory: z.array(z.number()).nullable().openapi({
    description: "The objective after each step 0…T (simulator method); null where the method " +
      "predicts only the end",
  }),
});

const CurriculumSchema = z.object({
  kept: z.array(z.string()),
  order: z.array(z.number().int()).openapi({
    description: "Which of the base run's batches comes at each step (0-based)",
  }),
  batches: z.array(z.array(z.string())).openapi({
    description: "The kept ids of each step's batch, in order",
  }),
}).openapi("OptimizedCurriculum");

const VerifiedRun = z.object({
  kind: z.enum(["optimized", "random"]),
  index: z.number().int().nullable(),
  run: z.string(),
  name: z.string(),
  observed: z.number(),
  predicted: z.number().nullable(),
  cancelled: z.boolean().openapi({
    description: "Recorded by a verification that was then cancelled or failed",
  }),
});

export const VerificationSchema = z.object({
  status: z.enum(["running", "complete", "cancelled", "failed"]),
  runs: z.array(VerifiedRun),
  observed: z.object({
    optimized: z.number(),
    randomMean: z.number(),
    improvement: z.number().openapi({ description: "random mean − optimised (> 0: better)" }),
    interval: z.object({ lower: z.number(), upper: z.number(), confidence: z.number() })
      .openapi({ description: "Percentile bootstrap over the random runs" }),
    overTests: z.object({ lower: z.number(), upper: z.number(), confidence: z.number() })
      .openapi({
        description: "Percentile bootstrap over the random runs and the objective's test " +
          "examples together",
      }),
    bootstrap: z.object({
      resamples: z.number().int(),
      seed: z.number().int(),
      resampled: z.string(),
    }),
  }).nullable(),
  predicted: z.object({ improvement: z.number().nullable() }).nullable(),
}).openapi("CurriculumVerification");

export const OptimizationSummarySchema = z.object({
  id: z.string(),
  study: z.string(),
  method: z.enum(["simulator", "scores", "metagradient"]),
  status: z.enum(["running", "ready", "failed", "cancelled"]),
  error: z.string().nullable(),
  job: z.string().nullable(),
  budget: z.object({ keep: z.number().int(), of: z.number().int() }),
  objective: z.object({
    tests: z.array(z.string()),
    at: z.enum(["final", "mean"]),
  }),
  predicted: z.object({
    optimized: z.number().nullable(),
    own: z.number().nullable(),
    randomMean: z.number().nullable(),
  }).nullable(),
  verified: z.object({
    improvement: z.number(),
    lower: z.number(),
    upper: z.number(),
  }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("CurriculumOptimizationSummary");

export const OptimizationSchema = OptimizationSummarySchema.extend({
  request: z.record(z.string(), z.unknown()).openapi({ description: "The request, resolved" }),
  result: z.object({
    curriculum: CurriculumSchema,
    predicted: z.object({
      optimized: Prediction,
      own: Prediction,
      random: z.array(Prediction.extend({ kept: z.number().int() })),
      randomMean: z.number().nullable(),
      improvement: z.number().nullable(),
    }),
    changes: z.object({
      added: z.array(Contribution).openapi({
        description: "Ids the chosen curriculum has and the study's own lacks (none: the " +
          "candidates are the own curriculum's ids)",
      }),
      dropped: z.array(Contribution),
      kept: z.array(Contribution),
    }),
    search: z.record(z.string(), z.unknown()).openapi({
      description: "How the method searched (per method: restarts and the best objective per " +
        "round, and for the simulator `device`: gpu or cpu, where its batched rollouts ran (the " +
        "CPU in float64 on a software adapter, where it is faster); or " +
        "the metagradient iterations' objectives)",
    }),
    provenance: z.record(z.string(), z.unknown()),
    seconds: z.number(),
  }).nullable(),
  verification: VerificationSchema.nullable(),
}).openapi("CurriculumOptimization");
