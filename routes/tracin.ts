// TracIn-CP over a recorded run's checkpoints: POST /v1/influence/tracin starts a job whose result
// is an influence score set, read with GET /v1/influence/scores/:id and its /matrix, /top and
// /modules.
import { createRoute, z } from "@hono/zod-openapi";
import { BEARER_SECURITY, errorResponse, jsonContent } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { describeScores } from "../src/influence/scores/service.ts";
import { TracinRequestSchema } from "../src/tracin/schemas.ts";
import { startTracin } from "../src/tracin/service.ts";

const createTracin = createRoute({
  method: "post",
  path: "/v1/influence/tracin",
  summary: "TracIn-CP scores over a recorded run's checkpoints, as a job",
  description: "TracIn(q, m) = Σ_c η_c ⟨∇ℓ_q(θ_c), ∇ℓ_m(θ_c)⟩ over the run's checkpoints c, η_c " +
    "the learning rate of the step checkpoint c was taken after; losses summed over labelled " +
    'tokens. The result is a score set (method "tracin") with per-module terms: read it with ' +
    "GET /v1/influence/scores/{id}, /matrix, /top and /modules.",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: TracinRequestSchema,
          example: {
            run: "00000000-0000-4000-8000-000000000001",
            queries: { examples: [{ id: "q1", text: "the model learns" }] },
            parameters: "linear",
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
    400: errorResponse(
      "Invalid request: unknown ids, too-long examples, a bad projection, no train",
    ),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("Unknown run or dataset"),
    409: errorResponse("The run has no checkpoints, or its model no longer exists"),
    503: errorResponse("No GPU"),
  },
});

export const tracinRoutes: RouteModule = (app, deps) => {
  app.openapi(createTracin, async (c) => {
    const { scores, job } = await startTracin(deps, c.req.valid("json"));
    return c.json({ scores: describeScores(scores), job }, 202);
  });
};
