// Influence functions (EK-FAC and friends): factors and score sets as jobs, the readers of a score
// set (matrix, top examples, per-token and per-module terms), and BM25 search over a dataset.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  IdParams,
  jsonContent,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { storedRequest } from "../src/jobs/resume.ts";
import {
  deleteFactors,
  describeFactors,
  getFactors,
  listFactors,
  startFactors,
} from "../src/influence/factors/service.ts";
import {
  FactorsRequestSchema,
  ScoresBodySchema,
  SearchRequestSchema,
} from "../src/influence/schemas.ts";
import {
  deleteScores,
  describeScores,
  getScores,
  listScores,
  pairModules,
  pairTokens,
  scoreMatrix,
  startScores,
  topScores,
} from "../src/influence/scores/service.ts";
import { searchDataset } from "../src/influence/search.ts";
import { startGradientScores } from "../src/projection/score_service.ts";

const Any = z.record(z.string(), z.unknown());
const Started = (what: "factors" | "scores") =>
  jsonContent(z.object({ [what]: Any, job: z.string() }), "Started: poll the job or its events");
const common = {
  401: errorResponse("Missing or wrong API token"),
  404: errorResponse("Not found"),
};

const route = {
  createFactors: createRoute({
    method: "post",
    path: "/v1/influence/factors",
    summary: "Fit influence factors (EK-FAC, KFAC, diagonal or identity) as a job",
    description: "Per tracked linear module: the covariances of its inputs (bias folded in as an " +
      "appended 1) and output gradients over every non-padding token, their float64 " +
      "eigendecompositions, and the eigenvalue correction from each training sequence's exact " +
      "gradient (EK-FAC). Stored as one checksummed safetensors file. The weights are a stored " +
      "`model`, or a recorded run's checkpoint (`run` + `step`, as for POST /v1/gradients). " +
      "Factors of a randomly initialised, never trained model (or the step-0 checkpoint of a " +
      "run recorded from one) carry a `warnings` entry `untrained_model`, and so does every " +
      "score set computed from them.",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: FactorsRequestSchema,
            example: {
              model: "00000000-0000-4000-8000-000000000006",
              dataset: "builtin:skills",
              strategy: "ekfac",
            },
          },
        },
      },
    },
    responses: {
      202: Started("factors"),
      400: errorResponse(
        "Invalid request: neither or both of `model` and `run`, `run` without `step`, unknown " +
          "module names, ids, too-long examples",
      ),
      401: common[401],
      404: errorResponse(
        "No such model, run, checkpoint step or dataset (`details.field` names which)",
      ),
      503: errorResponse("No GPU"),
    },
  }),
  listFactors: createRoute({
    method: "get",
    path: "/v1/influence/factors",
    summary: "Fitted factors, newest first",
    security: BEARER_SECURITY,
    request: { query: z.object(pageQuery(50, 500)) },
    responses: { 200: jsonContent(Any, "A page of factors"), 401: common[401] },
  }),
  getFactors: createRoute({
    method: "get",
    path: "/v1/influence/factors/{id}",
    summary: "Factors: status, strategy, modules with shapes and mean eigenvalues, counts",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 200: jsonContent(Any, "The factors"), ...common },
  }),
  deleteFactors: createRoute({
    method: "delete",
    path: "/v1/influence/factors/{id}",
    summary: "Delete factors and their file (a fit in progress is cancelled)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
  createScores: createRoute({
    method: "post",
    path: "/v1/influence/scores",
    summary: "Compute influence scores (pairwise or self) as a job",
    description: "I(q, m) = ∇ℓ_qᵀ (G + λI)⁻¹ ∇ℓ_m with the factors' curvature; positive means " +
      "up-weighting training example m lowers the query's loss (helpful). Losses are summed over " +
      "labelled tokens. Training examples stream through in batches. Scores are computed at the " +
      "weights the factors were fitted on; `model`, or `run` + `step`, is an optional check of " +
      "them. They carry the factors' `warnings`.",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: ScoresBodySchema,
            example: {
              factors: "00000000-0000-4000-8000-000000000007",
              queries: { examples: [{ id: "q1", prompt: "add 11 46 =", completion: " 57" }] },
              perModule: true,
            },
          },
        },
      },
    },
    responses: {
      202: Started("scores"),
      400: errorResponse(
        "Invalid request: queries too long, queryRank too large, bad filter, factors fitted on " +
          "other weights than `model` or `run` + `step` name",
      ),
      ...common,
      409: errorResponse("The factors are still being fitted, or failed"),
      503: errorResponse("No GPU"),
    },
  }),
  listScores: createRoute({
    method: "get",
    path: "/v1/influence/scores",
    summary: "Score sets, newest first",
    security: BEARER_SECURITY,
    request: { query: z.object(pageQuery(50, 500)) },
    responses: { 200: jsonContent(Any, "A page of score sets"), 401: common[401] },
  }),
  getScores: createRoute({
    method: "get",
    path: "/v1/influence/scores/{id}",
    summary: "A score set: status, settings, shapes",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 200: jsonContent(Any, "The score set"), ...common },
  }),
  deleteScores: createRoute({
    method: "delete",
    path: "/v1/influence/scores/{id}",
    summary: "Delete a score set and its file (a computation in progress is cancelled)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
  matrix: createRoute({
    method: "get",
    path: "/v1/influence/scores/{id}/matrix",
    summary: "The scores (rows are queries); pairs a filter skipped are null",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({
        module: z.string().min(1).max(256).optional(),
        format: z.enum(["json", "safetensors"]).default("json"),
      }),
    },
    responses: {
      200: {
        description: "{queries, train, scores} (self: {train, scores}), or a safetensors file",
        content: {
          "application/json": { schema: Any },
          "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
      ...common,
      409: errorResponse("Not ready, or per-module scores were not kept"),
    },
  }),
  top: createRoute({
    method: "get",
    path: "/v1/influence/scores/{id}/top",
    summary: "The most helpful and most harmful training examples for a query, with their text",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({
        query: z.string().min(1).max(256),
        k: z.coerce.number().int().min(1).max(1000).default(20),
      }),
    },
    responses: {
      200: jsonContent(Any, "{query, helpful, harmful}"),
      ...common,
      409: errorResponse("Not ready"),
    },
  }),
  tokens: createRoute({
    method: "get",
    path: "/v1/influence/scores/{id}/tokens",
    summary: "Per-token scores of one pair: one per input position of the training example",
    description: "Σ over modules of ⟨P_q, s_t a_tᵀ⟩ at each input position t; they sum to the " +
      "pair's score (`total`).",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({ query: z.string().min(1).max(256), train: z.string().min(1).max(256) }),
    },
    responses: {
      200: jsonContent(Any, "{tokens: [{token, text, score}], total}"),
      ...common,
      409: errorResponse("Not ready, or computed without perToken"),
    },
  }),
  modules: createRoute({
    method: "get",
    path: "/v1/influence/scores/{id}/modules",
    summary: "Per-module terms of one pair; they sum to its score",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({ query: z.string().min(1).max(256), train: z.string().min(1).max(256) }),
    },
    responses: {
      200: jsonContent(Any, "{modules: [{module, score}], total}"),
      ...common,
      409: errorResponse("Not ready, or computed without perModule"),
    },
  }),
  search: createRoute({
    method: "post",
    path: "/v1/datasets/{id}/search",
    summary: "BM25 search over a dataset's examples (binary term frequency, on token ids)",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": { schema: SearchRequestSchema, example: { query: "add 11", top: 5 } },
        },
      },
    },
    responses: { 200: jsonContent(Any, "{results: [{id, score, text}]}"), ...common },
  }),
};

export const influenceRoutes: RouteModule = (app, deps) => {
  const { store } = deps;
  // POST /v1/jobs/:id/resume: the same request again, as a new record and job.
  deps.jobs.registerResumer("influence-factors", async (previous) => {
    const request = storedRequest(previous, FactorsRequestSchema);
    const { factors, job } = await startFactors(deps, request);
    return { job, factors: factors.id };
  });
  deps.jobs.registerResumer("influence-scores", async (previous) => {
    const body = storedRequest(previous, ScoresBodySchema);
    const { scores, job } = "gradients" in body
      ? await startGradientScores(deps, body)
      : await startScores(deps, body);
    return { job, scores: scores.id };
  });
  app.openapi(route.createFactors, async (c) => {
    const { factors, job } = await startFactors(deps, c.req.valid("json"));
    return c.json({ factors: describeFactors(factors), job }, 202);
  });
  app.openapi(route.listFactors, (c) => {
    const { limit, offset } = c.req.valid("query");
    return c.json(listFactors(store, limit, offset), 200);
  });
  app.openapi(route.getFactors, (c) => {
    return c.json(describeFactors(getFactors(store, c.req.valid("param").id)), 200);
  });
  app.openapi(route.deleteFactors, async (c) => {
    await deleteFactors(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(route.createScores, async (c) => {
    const body = c.req.valid("json");
    const { scores, job } = "gradients" in body
      ? await startGradientScores(deps, body)
      : await startScores(deps, body);
    return c.json({ scores: describeScores(scores), job }, 202);
  });
  app.openapi(route.listScores, (c) => {
    const { limit, offset } = c.req.valid("query");
    return c.json(listScores(store, limit, offset), 200);
  });
  app.openapi(route.getScores, (c) => {
    return c.json(describeScores(getScores(store, c.req.valid("param").id)), 200);
  });
  app.openapi(route.deleteScores, async (c) => {
    await deleteScores(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
  app.openapi(route.matrix, async (c) => {
    const { module, format } = c.req.valid("query");
    const matrix = await scoreMatrix(store, c.req.valid("param").id, module);
    if (format === "json") return c.json(matrix.json, 200);
    return c.body(matrix.safetensors() as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": 'attachment; filename="scores.safetensors"',
    });
  });
  app.openapi(route.top, async (c) => {
    const { query, k } = c.req.valid("query");
    return c.json(await topScores(store, c.req.valid("param").id, query, k), 200);
  });
  app.openapi(route.tokens, async (c) => {
    const { query, train } = c.req.valid("query");
    return c.json(await pairTokens(store, c.req.valid("param").id, query, train), 200);
  });
  app.openapi(route.modules, async (c) => {
    const { query, train } = c.req.valid("query");
    return c.json(await pairModules(store, c.req.valid("param").id, query, train), 200);
  });
  app.openapi(route.search, async (c) => {
    return c.json(await searchDataset(store, c.req.valid("param").id, c.req.valid("json")), 200);
  });
};
