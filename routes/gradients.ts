// Projected per-example gradients (TRAK-style dense, LoGra-style Kronecker) as jobs, their
// metadata and their safetensors download.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  IdParams,
  jsonContent,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { GradientsRequestSchema } from "../src/projection/schemas.ts";
import {
  deleteGradients,
  describeGradients,
  getGradients,
  gradientsFile,
  listGradients,
  startGradients,
} from "../src/projection/service.ts";

const Any = z.record(z.string(), z.unknown());
const common = {
  401: errorResponse("Missing or wrong API token"),
  404: errorResponse("Not found"),
};

const route = {
  create: createRoute({
    method: "post",
    path: "/v1/gradients",
    summary: "Project every example's loss gradient to `dim` columns, as a job",
    description: "Each example's gradient of its summed loss over its labelled tokens, projected " +
      "by a seeded ±1/√k matrix computed inside the kernel (dense: φ = Pᵀg over the selected " +
      "parameters) or per linear layer from the backward's taps (kronecker: P_outᵀ·DW·P_in, DW " +
      "never formed). Stored as one checksummed safetensors file [n, dim].",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: GradientsRequestSchema,
            example: {
              model: "00000000-0000-4000-8000-000000000006",
              dataset: "builtin:skills",
              projection: { kind: "dense", dim: 1024, seed: 0 },
            },
          },
        },
      },
    },
    responses: {
      202: jsonContent(
        z.object({ gradients: Any, job: z.string() }),
        "Started: poll the job or its events",
      ),
      400: errorResponse("Invalid request: dim 0 or too large, unknown ids, too-long examples"),
      ...common,
      503: errorResponse("No GPU"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/gradients",
    summary: "Projected-gradient sets, newest first",
    security: BEARER_SECURITY,
    request: { query: z.object(pageQuery(50, 500)) },
    responses: { 200: jsonContent(Any, "A page of gradient sets"), 401: common[401] },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/gradients/{id}",
    summary: "A projected-gradient set: status, model, dataset, ids count, projection, shape",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 200: jsonContent(Any, "The gradient set"), ...common },
  }),
  data: createRoute({
    method: "get",
    path: "/v1/gradients/{id}/data",
    summary: "The projected gradients as safetensors (`gradients` [n, dim]; ids in the metadata)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      200: {
        description: "A safetensors file",
        content: {
          "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) },
        },
      },
      ...common,
      409: errorResponse("Not ready, or failed"),
    },
  }),
  delete: createRoute({
    method: "delete",
    path: "/v1/gradients/{id}",
    summary: "Delete a gradient set and its file (a projection in progress is cancelled)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
};

export const gradientRoutes: RouteModule = (app, deps) => {
  const { store } = deps;
  app.openapi(route.create, async (c) => {
    const { gradients, job } = await startGradients(deps, c.req.valid("json"));
    return c.json({ gradients: describeGradients(gradients), job }, 202);
  });
  app.openapi(route.list, (c) => {
    const { limit, offset } = c.req.valid("query");
    return c.json(listGradients(store, limit, offset), 200);
  });
  app.openapi(route.get, (c) => {
    return c.json(describeGradients(getGradients(store, c.req.valid("param").id)), 200);
  });
  app.openapi(route.data, async (c) => {
    const bytes = await gradientsFile(store, c.req.valid("param").id);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
      "content-disposition": 'attachment; filename="gradients.safetensors"',
    });
  });
  app.openapi(route.delete, async (c) => {
    await deleteGradients(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });
};
