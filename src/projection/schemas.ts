// The gradient-projection API's request bodies, with their defaults (each default lives here).
import { z } from "@hono/zod-openapi";
import { PARAMETER_SELECTIONS, PROJECTION_KINDS } from "./math.ts";

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
