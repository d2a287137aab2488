// Exact metagradients (MAGIC) of a recorded run: POST /v1/influence/metagradients starts a job that
// replays the run and reverses it once per query; the result is an influence score set (method
// "magic"), read with GET /v1/influence/scores/:id and its /matrix and /top.
import { createRoute, z } from "@hono/zod-openapi";
import { BEARER_SECURITY, errorResponse, jsonContent } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { storedRequest } from "../src/jobs/resume.ts";
import { describeScores } from "../src/influence/scores/service.ts";
import { MetagradientRequestSchema, startMetagradients } from "../src/metagradients/service.ts";

const createMetagradients = createRoute({
  method: "post",
  path: "/v1/influence/metagradients",
  summary: "Exact metagradients of a recorded run's final query losses (MAGIC), as a job",
  description: "score(q, i) = −∂φ_q(θ_T(w))/∂w_i at the run's data weights: the exact derivative " +
    "of query q's summed loss at the final weights with respect to training example i's data " +
    "weight, through every AdamW step (shared design: MATH.md §7). Positive: up-weighting i " +
    "lowers q's loss. The run is replayed first and refused (the job fails with replay_mismatch) " +
    "when its test losses differ from the recorded ones by more than 1e-5. Progress: phase " +
    'forward | replay | reverse, step of T. The result is a score set (method "magic").',
  security: BEARER_SECURITY,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: MetagradientRequestSchema,
          example: {
            run: "00000000-0000-4000-8000-000000000001",
            queries: { examples: [{ id: "q1", text: "the model learns" }] },
            checkpointing: "sqrt",
          },
        },
      },
    },
  },
  responses: {
    202: jsonContent(
      z.object({ scores: z.record(z.string(), z.unknown()), job: z.string() }),
      "Started: poll the job or its events",
    ),
    400: errorResponse("Invalid request: unknown ids, a query longer than the context"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("Unknown run or dataset"),
    409: errorResponse(
      "The run cannot be replayed: uploaded or recorded before data weights, its model or " +
        "dataset deleted, or not trained with AdamW",
    ),
    503: errorResponse("No GPU"),
  },
});

export const metagradientRoutes: RouteModule = (app, deps) => {
  deps.jobs.registerResumer("influence-metagradients", async (previous) => {
    const request = storedRequest(previous, MetagradientRequestSchema);
    const { scores, job } = await startMetagradients(deps, request);
    return { job, scores: scores.id };
  });
  app.openapi(createMetagradients, async (c) => {
    const { scores, job } = await startMetagradients(deps, c.req.valid("json"));
    return c.json({ scores: describeScores(scores), job }, 202);
  });
};
