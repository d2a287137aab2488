// Evaluations: the linear datamodeling score (LDS) of an attribution method on a study's runs,
// computed as a job and kept (listed, shown, deleted; deleted with their study).
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  identifier,
  IdParams,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import {
  deleteEvaluation,
  describeEvaluation,
  describeEvaluationSummary,
  getEvaluation,
  listEvaluations,
} from "../src/evaluations/records.ts";
import { LdsRequestSchema, startLds } from "../src/evaluations/service.ts";

const IdList = z.object({ ids: z.array(z.string()), total: z.number().int() });

const EXAMPLE_ID = "00000000-0000-4000-8000-000000000009";
const EXAMPLE_RUNS = [1, 2, 3, 4, 5].map((k) => `00000000-0000-4000-8000-00000000000${k}`);
const EXAMPLE_SUMMARY = {
  id: EXAMPLE_ID,
  kind: "lds",
  study: "s1",
  method: { simulator: "00000000-0000-4000-8000-000000000006" },
  status: "ready",
  error: null,
  job: "00000000-0000-4000-8000-000000000008",
  runs: { ids: EXAMPLE_RUNS, total: 5 },
  baseRun: null,
  allowFittingRuns: false,
  prediction: "the simulator's rollout of the run's curriculum from the run's L_0",
  lds: 0.52,
  interval: { lower: 0.22, upper: 0.82, confidence: 0.95 },
  scoredTests: 2,
  constantTests: 1,
  fittingRuns: { ids: [], total: 0 },
  bootstrap: { resamples: 1000, seed: 0, resampled: "test examples", method: "percentile" },
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:01.000Z",
};
const EXAMPLE_EVALUATION = {
  ...EXAMPLE_SUMMARY,
  tests: [
    { test: "q0", spearman: 0.82 },
    { test: "q1", spearman: 0.22 },
    { test: "q2", spearman: null },
  ],
};

const LdsEvaluationSummarySchema = z.object({
  id: z.string(),
  kind: z.literal("lds"),
  study: z.string(),
  method: z.union([z.object({ simulator: z.string() }), z.object({ scores: z.string() })])
    .openapi({ description: "The simulator or score set evaluated (it may since be deleted)" }),
  status: z.enum(["running", "ready", "failed", "cancelled"]),
  error: z.string().nullable(),
  job: z.string().nullable().openapi({ description: "The job that computes it" }),
  runs: IdList.openapi({
    description: "The runs it was measured on: in a list, up to 20 ids and how many there are; " +
      "for one evaluation, every id",
  }),
  baseRun: z.string().nullable().openapi({
    description: "The base run the runs are mask runs of (the single-model LDS); else null",
  }),
  allowFittingRuns: z.boolean(),
  prediction: z.string().nullable().openapi({
    description: "How the method predicts a run's final loss; null until ready",
  }),
  lds: z.number().nullable().openapi({
    description: "Mean Spearman ρ over the test examples that have one; null until ready or " +
      "when none has",
  }),
  interval: z.object({ lower: z.number(), upper: z.number(), confidence: z.number() })
    .nullable().openapi({ description: "Percentile-bootstrap interval of the LDS" }),
  scoredTests: z.number().int().nullable(),
  constantTests: z.number().int().nullable().openapi({
    description: "Test examples constant over the runs on either side (no ρ, left out)",
  }),
  fittingRuns: IdList.nullable().openapi({
    description: "Measured runs the simulator was fitted on (only with allowFittingRuns)",
  }),
  bootstrap: z.object({
    resamples: z.number().int(),
    seed: z.number().int(),
    resampled: z.literal("test examples"),
    method: z.literal("percentile"),
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("LdsEvaluationSummary", { example: EXAMPLE_SUMMARY });

const LdsEvaluationSchema = LdsEvaluationSummarySchema.extend({
  tests: z.array(z.object({ test: z.string(), spearman: z.number().nullable() })).nullable()
    .openapi({
      description: "Spearman ρ per test example (null: constant on one side); null until ready",
    }),
}).openapi("LdsEvaluation", { example: EXAMPLE_EVALUATION });

const common = {
  401: errorResponse("Missing or wrong API token"),
  404: errorResponse("No such evaluation"),
};

const routes = {
  lds: createRoute({
    method: "post",
    path: "/v1/evaluations/lds",
    summary: "Linear datamodeling score of a simulator or a score set on a study's runs (a job)",
    description: "Per test example, Spearman's ρ over the runs between the method's predicted " +
      "and the observed final loss; the LDS is their mean, with a seeded 95 % percentile " +
      "bootstrap interval over test examples. The evaluation is kept " +
      "(GET /v1/evaluations/{id}, ready when its job succeeds; the job's result holds it too) " +
      "and deleted with its study. Runs a simulator was fitted on are a 409 unless " +
      "`allowFittingRuns` is true. With `baseRun` (the single-model setting), every run is a " +
      "mask run of that run and a score set predicts the base run's final loss plus the scores " +
      "of the ids a run dropped, each once.",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: LdsRequestSchema,
            example: {
              study: "s1",
              runs: EXAMPLE_RUNS,
              method: { simulator: "00000000-0000-4000-8000-000000000006" },
            },
          },
        },
      },
    },
    responses: {
      202: {
        description: "Started: the kept evaluation (running) and its job",
        content: {
          "application/json": {
            schema: z.object({ evaluation: LdsEvaluationSummarySchema, job: z.string() }),
            example: {
              evaluation: {
                ...EXAMPLE_SUMMARY,
                status: "running",
                prediction: null,
                lds: null,
                interval: null,
                scoredTests: null,
                constantTests: null,
                fittingRuns: null,
              },
              job: EXAMPLE_SUMMARY.job,
            },
          },
        },
      },
      400: errorResponse(
        "Invalid request; the message names the field (too few runs, runs of another study, a " +
          "simulator of another study, a score set that does not cover the study; with baseRun: " +
          "an unknown base run, or a run that is not a mask run of it, code not_a_mask_run)",
      ),
      401: common[401],
      404: errorResponse("No such study, simulator or score set"),
      409: errorResponse(
        "The simulator or score set is not ready, or a run was used to fit the simulator " +
          "(code fitting_runs, details.fittingRuns {ids, total}) and allowFittingRuns is not true",
      ),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/evaluations",
    summary: "Kept evaluations, newest first, of one study or all",
    security: BEARER_SECURITY,
    request: {
      query: z.object({ study: identifier(256).optional(), ...pageQuery(50, 500) }),
    },
    responses: {
      200: {
        description: "A page of evaluations, each without its per-test values",
        content: {
          "application/json": {
            schema: pageOf("evaluations", LdsEvaluationSummarySchema),
            example: { evaluations: [EXAMPLE_SUMMARY], total: 1, limit: 50, offset: 0 },
          },
        },
      },
      400: errorResponse("Invalid query"),
      401: common[401],
    },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/evaluations/{id}",
    summary: "One evaluation: method, runs, LDS, interval and ρ per test example",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      200: {
        description: "The evaluation",
        content: {
          "application/json": { schema: LdsEvaluationSchema, example: EXAMPLE_EVALUATION },
        },
      },
      ...common,
    },
  }),
  delete: createRoute({
    method: "delete",
    path: "/v1/evaluations/{id}",
    summary: "Delete an evaluation (its job is cancelled if it still runs)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
};

export const evaluationRoutes: RouteModule = (app, deps) => {
  app.openapi(routes.lds, async (c) => {
    const { evaluation, job } = await startLds(deps, c.req.valid("json"));
    return c.json({ evaluation: describeEvaluationSummary(evaluation), job }, 202);
  });
  app.openapi(routes.list, (c) => {
    return c.json(listEvaluations(deps.store, c.req.valid("query")), 200);
  });
  app.openapi(routes.get, (c) => {
    return c.json(describeEvaluation(getEvaluation(deps.store, c.req.valid("param").id)), 200);
  });
  app.openapi(routes.delete, (c) => {
    deleteEvaluation(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
};
