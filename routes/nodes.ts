// GET /v1/nodes: the nodes of a cluster (on PostgreSQL) with their role, GPU adapter, last
// heartbeat and the job each runs; in single-process mode, this node alone.
import { createRoute, z } from "@hono/zod-openapi";
import {
  BEARER_SECURITY,
  errorResponse,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { nodeDirectoryOf } from "../src/cluster/node_directory.ts";
import { NODE_ROLES } from "../src/config.ts";

const NodeSchema = z.object({
  id: z.string().openapi({ description: "SIMFLUENCE_NODE_ID; the same after a restart" }),
  role: z.enum(NODE_ROLES).openapi({
    description: "api: answers requests only; worker: also runs jobs; all: both",
  }),
  adapter: z.object({
    vendor: z.string(),
    device: z.string(),
    description: z.string(),
    fallback: z.boolean().openapi({ description: "A fallback (software) adapter" }),
  }).nullable().openapi({
    description: "The WebGPU adapter it runs GPU jobs on; null: it takes CPU jobs only",
  }),
  startedAt: z.string(),
  heartbeatAt: z.string().openapi({ description: "Its last heartbeat (every few seconds)" }),
  job: z.string().nullable().openapi({ description: "The job it is running, if any" }),
  alive: z.boolean().openapi({
    description: "Heard from within three heartbeats; a dead node's job is retried elsewhere",
  }),
}).openapi("Node");

const listNodes = createRoute({
  method: "get",
  path: "/v1/nodes",
  summary: "The cluster's nodes (this node alone without PostgreSQL)",
  security: BEARER_SECURITY,
  request: { query: z.object(pageQuery(50, 500)) },
  responses: {
    200: jsonContent(pageOf("nodes", NodeSchema), "The nodes that have joined, by id"),
    401: errorResponse("Missing or wrong API token"),
  },
});

export const nodeRoutes: RouteModule = (app, deps) => {
  app.openapi(listNodes, (c) => {
    const { limit, offset } = c.req.valid("query");
    const all = nodeDirectoryOf(deps).list();
    return c.json(
      { nodes: all.slice(offset, offset + limit), total: all.length, limit, offset },
      200,
    );
  });
};
