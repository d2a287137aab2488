// Curriculum optimisation: choose which training examples to keep (and in what order) to lower
// chosen test examples' loss, by a simulator's rollouts, a score set, or metagradient descent; and
// check the choice by training (POST /v1/curricula/optimize, a job). Kept records are listed,
// shown, deleted, and their curriculum downloaded as JSON or in GPTfluence's layout.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  identifier,
  IdParams,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { curriculumGptfluence, curriculumJson } from "../src/curricula/downloads.ts";
import {
  OptimizationSchema,
  OptimizationSummarySchema,
  OptimizeRequestSchema,
} from "../src/curricula/schemas.ts";
import {
  deleteOptimization,
  describeOptimization,
  describeOptimizationSummary,
  getOptimization,
  listOptimizations,
  startOptimization,
} from "../src/curricula/service.ts";

const EXAMPLE_REQUEST = {
  study: "skills",
  objective: { tests: ["rev-100", "rev-101"], at: "final" },
  budget: { dropFraction: 0.5 },
  method: { simulator: "00000000-0000-4000-8000-000000000006" },
  seed: 0,
  verify: { runs: 8 },
};

const common = {
  401: errorResponse("Missing or wrong API token"),
  404: errorResponse("No such optimisation"),
};

const routes = {
  optimize: createRoute({
    method: "post",
    path: "/v1/curricula/optimize",
    summary: "Optimise which training examples to keep (and their order) for chosen test " +
      "examples, optionally verified by training (a job)",
    description: "The candidates are the distinct training ids of the study's own curriculum " +
      "(`baseRun`); a chosen curriculum is the base run's batches with the dropped ids removed " +
      "(weighted 0 when trained). Methods: `simulator` (annealing with seeded restarts over " +
      "swaps, candidates rolled out in batches), `scores` (drop the most harmful by summed " +
      "scores, the baseline), `metagradient` (descent on data weights, one phase per " +
      "iteration). The result predicts the chosen, the study's own and random curricula of the " +
      "same budget; `verify` records real runs and reports the observed improvement over the " +
      "random mean with a seeded bootstrap 95 % interval. Progress: phase search | iteration " +
      "k/n | predict | verify k/R+1.",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": { schema: OptimizeRequestSchema, example: EXAMPLE_REQUEST },
        },
      },
    },
    responses: {
      202: jsonContent(
        z.object({ optimization: OptimizationSummarySchema, job: z.string() }),
        "Started: the kept optimisation (running) and its job",
      ),
      400: errorResponse(
        "Invalid request; the message names the field: a budget larger than the study " +
          "curriculum's examples or smaller than keep, unknown test or training ids, a " +
          "simulator or score set of another study, an objective with no tests",
      ),
      401: common[401],
      404: errorResponse("No such study, simulator, score set or run"),
      409: errorResponse(
        "The simulator or score set is not ready, or the run cannot be replayed (uploaded, " +
          "model or dataset deleted, not AdamW)",
      ),
      503: errorResponse("No GPU (metagradient method, verification)"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/curricula/optimizations",
    summary: "Kept optimisations, newest first, of one study or all",
    security: BEARER_SECURITY,
    request: { query: z.object({ study: identifier(256).optional(), ...pageQuery(50, 500) }) },
    responses: {
      200: jsonContent(pageOf("optimizations", OptimizationSummarySchema), "A page"),
      400: errorResponse("Invalid query"),
      401: common[401],
    },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/curricula/optimizations/{id}",
    summary: "One optimisation: its curriculum, predictions, changes, search and verification",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 200: jsonContent(OptimizationSchema, "The optimisation"), ...common },
  }),
  delete: createRoute({
    method: "delete",
    path: "/v1/curricula/optimizations/{id}",
    summary: "Delete an optimisation (its job is cancelled if it runs; its verification runs " +
      "stay in the study)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
  curriculum: createRoute({
    method: "get",
    path: "/v1/curricula/optimizations/{id}/curriculum",
    summary: "Download the optimised curriculum: JSON, or GPTfluence's run layout (a zip)",
    description: "`format=json` (default): kept ids, batch order, the kept ids of each step, " +
      "changes, predictions, verification and provenance. `format=gptfluence`: a zip with " +
      "train_samples_id.json (the kept ids per step) and, for the simulator method, " +
      "all_loss_trajectory.out with the simulator's predicted losses of every test example.",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({ format: z.enum(["json", "gptfluence"]).default("json") }),
    },
    responses: {
      200: {
        description: "The curriculum",
        content: {
          "application/json": { schema: z.record(z.string(), z.unknown()) },
          "application/zip": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
      ...common,
      409: errorResponse("The search has not finished (code not_ready)"),
    },
  }),
};

export const curriculaRoutes: RouteModule = (app, deps) => {
  app.openapi(routes.optimize, async (c) => {
    const { optimization, job } = await startOptimization(deps, c.req.valid("json"));
    return c.json({ optimization: describeOptimizationSummary(optimization), job: job.id }, 202);
  });
  app.openapi(routes.list, (c) => {
    return c.json(listOptimizations(deps.store, c.req.valid("query")), 200);
  });
  app.openapi(routes.get, (c) => {
    const record = getOptimization(deps.store, c.req.valid("param").id);
    return c.json(describeOptimization(record) as z.infer<typeof OptimizationSchema>, 200);
  });
  app.openapi(routes.delete, (c) => {
    deleteOptimization(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(routes.curriculum, async (c) => {
    const { id } = c.req.valid("param");
    if (c.req.valid("query").format === "json") return c.json(curriculumJson(deps.store, id), 200);
    const { zip, fileName } = await curriculumGptfluence(deps.store, id);
    return c.body(zip as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${fileName}"`,
    });
  });
};
