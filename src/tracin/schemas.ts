// The TracIn request body (POST /v1/influence/tracin), with its defaults. The query and training
// selections are the influence scores request's own (src/influence/schemas.ts), the projection
// the gradient-projection request's (src/projection/schemas.ts).
import { z } from "@hono/zod-openapi";
import { ScoresRequestSchema } from "../influence/schemas.ts";
import { GradientsRequestSchema } from "../projection/schemas.ts";
import { TRACIN_PARAMETERS } from "./engine.ts";

const scoresShape = ScoresRequestSchema.shape;

export const TracinRequestSchema = z.object({
  run: z.string().min(1).max(256).openapi({
    description: "A recorded run with checkpoints (POST /v1/training-runs with checkpointEvery)",
  }),
  queries: scoresShape.queries.unwrap().openapi({
    description: "The queries: dataset examples, or examples given inline; a query's loss is " +
      "summed over its labelled tokens",
  }),
  train: scoresShape.train.openapi({
    description: "Training examples to score; default: the run's training examples (the " +
      "distinct ids of its curriculum) from the dataset it was recorded on",
  }),
  parameters: z.enum(TRACIN_PARAMETERS).default("all").openapi({
    description: '"all": every parameter, the tied embedding once; "linear": the four linear ' +
      'layers of every block; "mlp": h.{i}.mlp.c_fc and h.{i}.mlp.c_proj',
  }),
  projection: GradientsRequestSchema.shape.projection.optional().openapi({
    description: "Project the selected parameters' gradients first (POST /v1/gradients' " +
      "projection: dense or kronecker, dim, seed); the score then has one term, projection",
  }),
  batchSize: scoresShape.batchSize,
}).strict().openapi("TracinRequest");

export type TracinRequest = z.infer<typeof TracinRequestSchema>;
