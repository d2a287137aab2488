// Evaluations: the linear datamodeling score (LDS) of an attribution method on a study's runs.
import { createRoute, z } from "@hono/zod-openapi";
import { BEARER_SECURITY, errorResponse, jsonContent } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { LdsRequestSchema, startLds } from "../src/evaluations/service.ts";

const routes = {
  lds: createRoute({
    method: "post",
    path: "/v1/evaluations/lds",
    summary: "Linear datamodeling score of a simulator or a score set on a study's runs (a job)",
    description: "Per test example, Spearman's ρ over the runs between the method's predicted " +
      "and the observed final loss; the LDS is their mean, with a seeded 95 % percentile " +
      "bootstrap interval over test examples. The job's result (GET /v1/jobs/{id}) holds it; " +
      "nothing else is stored.",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: LdsRequestSchema,
            example: {
              study: "s1",
              runs: [
                "00000000-0000-4000-8000-000000000001",
                "00000000-0000-4000-8000-000000000002",
                "00000000-0000-4000-8000-000000000003",
                "00000000-0000-4000-8000-000000000004",
                "00000000-0000-4000-8000-000000000005",
              ],
              method: { simulator: "00000000-0000-4000-8000-000000000006" },
            },
          },
        },
      },
    },
    responses: {
      202: jsonContent(z.object({ job: z.string() }), "Started; the job's result is the LDS"),
      400: errorResponse(
        "Invalid request; the message names the field (too few runs, runs of another study, a " +
          "simulator of another study, a score set that does not cover the study)",
      ),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such study, simulator or score set"),
      409: errorResponse("The simulator or score set is not ready"),
    },
  }),
};

export const evaluationRoutes: RouteModule = (app, deps) => {
  app.openapi(routes.lds, async (c) => {
    const { job } = await startLds(deps, c.req.valid("json"));
    return c.json({ job }, 202);
  });
};
