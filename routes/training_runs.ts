// POST /v1/training-runs: record training runs by fine-tuning a stored model on a dataset under K
// seeded curricula; each finished run lands in the study like an uploaded one.
import { createRoute, z } from "@hono/zod-openapi";
import { BEARER_SECURITY, errorResponse, jsonContent } from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { resumeRecording, startRecording, TrainingRunsSchema } from "../src/training/service.ts";

const route = createRoute({
  method: "post",
  path: "/v1/training-runs",
  summary: "Record training runs by fine-tuning a model (a job)",
  description: "Each run starts from the model's weights with its own seeded curriculum and " +
    "records every test example's loss before training and after every step; finished runs are " +
    "stored in `study` and can be fitted by /v1/simulators without conversion. Progress events " +
    "carry run, step, training loss and tokens/s. A NaN/Inf loss fails the job naming the run " +
    "and step; cancelling keeps the runs already finished.",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: TrainingRunsSchema,
          example: {
            study: "s1",
            model: "00000000-0000-4000-8000-000000000006",
            dataset: "builtin:skills",
            trainExamples: 64,
            testExamples: 8,
            runs: 10,
            steps: 20,
            batchSize: 4,
            optimizer: { kind: "adamw", lr: 0.001 },
            curriculum: "subsample",
            subsampleFraction: 0.5,
          },
        },
      },
    },
  },
  responses: {
    202: jsonContent(z.object({ job: z.string(), runNames: z.array(z.string()) }), "Started"),
    400: errorResponse("Invalid request; the message names the field, example or id"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such model or dataset"),
    409: errorResponse("Run names taken, or test examples differ from the study's"),
    503: errorResponse("No GPU"),
  },
});

export const trainingRunRoutes: RouteModule = (app, deps) => {
  deps.jobs.registerResumer("training-runs", async (previous) => {
    const { job, runNames, skipped } = await resumeRecording(deps, previous);
    return { job: job.id, runNames, skipped };
  });
  app.openapi(route, async (c) => {
    const { job, runNames } = await startRecording(deps, c.req.valid("json"));
    return c.json({ job: job.id, runNames }, 202);
  });
};
