// The gradient-projection API's request bodies, with their defaults (each default lives here).
import { z } from "@hono/zod-openapi";
import { PARAMETER_SELECTIONS, PROJECTION_KINDS } from "./math.ts";
import { GRADIENT_SCORE_METHODS } from "./scores.ts";

const Id = z.string().min(1).max(256);

export const GradientsRequestSchema = z.object({
  model: Id.optional().openapi({ description: "A stored model; or give `run` and `step`" }),
  run: Id.optional().openapi({ description: "A training run whose checkpoint to use" }),
  step: z.number().int().min(0).optional().openapi({ description: "The checkpoint's step" }),
  dataset: Id.openapi({ description: "The examples' dataset" }),
  ids: z.array(Id).min(1).max(1_000_000).optional().openapi({
    description: "Examples; default: every example",
  }),
  projection: z.object({
    kind: z.enum(PROJECTION_KINDS).openapi({
      description: "dense: φ = Pᵀg (TRAK); kronecker: per linear layer P_outᵀ·DW·P_in (LoGra)",
    }),
    dim: z.number().int().min(0).max(1 << 24).openapi({
      description: "k: columns of the projected gradients (Kronecker: split evenly over layers)",
    }),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  }).strict(),
  parameters: z.enum(PARAMETER_SELECTIONS).default("linear").openapi({
    description: '"all": every parameter (the tied embedding once; dense only); "linear": ' +
      'the four linear layers of every block; "mlp": c_fc and c_proj',
  }),
  batchSize: z.number().int().min(1).max(1024).default(8),
}).strict().openapi("GradientsRequest");

export type GradientsRequest = z.infer<typeof GradientsRequestSchema>;

/** POST /v1/influence/scores from stored projected gradients (a member of its request union). */
export const GradientScoresRequestSchema = z.object({
  gradients: z.object({
    train: Id.openapi({ description: "Projected training gradients (POST /v1/gradients)" }),
    queries: Id.openapi({ description: "Projected query gradients, same model and projection" }),
  }).strict(),
  method: z.enum(GRADIENT_SCORE_METHODS).default("dot").openapi({
    description: "dot: φ_qᵀφ_m; cosine; trak: φ_qᵀ(ΦᵀΦ + λI)⁻¹φ_m with Φ the training gradients",
  }),
  damping: z.number().min(0).nullable().default(null).openapi({
    description: "trak's λ; null: 0.1 × the mean eigenvalue of ΦᵀΦ (trace / k)",
  }),
}).strict().openapi("GradientScoresRequest");

export type GradientScoresRequest = z.infer<typeof GradientScoresRequestSchema>;
