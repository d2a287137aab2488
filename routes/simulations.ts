// Simulations for browser EventSource clients, which can only GET: POST starts one and answers its
// id; GET …/events streams it, replaying what was computed so far (also after it finished), from
// Last-Event-ID on for a reconnecting client. List, status, cancel, and stream tokens for
// EventSource under authentication.
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import {
  firstEventAfter,
  LastEventIdHeaders,
  mintStreamUrl,
  streamTokenRoute,
} from "../src/http/event_streams.ts";
import {
  BEARER_SECURITY,
  errorResponse,
  IdParams,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import { pumpEventLog } from "../src/http/sse_pump.ts";
import type { RouteModule } from "../src/http/types.ts";
import { simulationStatus, startSimulation, watchSimulation } from "../src/simfluence/service.ts";
import { SimulationStartRequestSchema } from "../src/simfluence/simulation.ts";
import { SimulationRegistry } from "../src/simfluence/simulation_registry.ts";

const SimulationStatusSchema = z.object({
  id: z.string(),
  simulator: z.string(),
  status: z.enum(["running", "done", "failed", "cancelled"]),
  events: z.number().int().openapi({ description: "Events so far; the next has this SSE id" }),
  steps: z.number().int(),
  totalSteps: z.number().int(),
  watchers: z.number().int().openapi({ description: "Clients streaming its events now" }),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
}).openapi("Simulation");

const start = createRoute({
  method: "post",
  path: "/v1/simulations",
  summary: "Start a simulation to watch with GET /v1/simulations/{id}/events",
  security: BEARER_SECURITY,
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: SimulationStartRequestSchema,
          example: {
            simulator: "00000000-0000-4000-8000-000000000005",
            fromRun: "00000000-0000-4000-8000-000000000001",
            drop: ["e3"],
          },
        },
      },
    },
  },
  responses: {
    202: {
      description: "Started",
      content: { "application/json": { schema: z.object({ id: z.string(), events: z.string() }) } },
    },
    400: errorResponse("Invalid request"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such simulator"),
    409: errorResponse("Simulator not ready"),
    429: errorResponse(
      "Too many simulations running at once; retry after `Retry-After` seconds (an estimate of " +
        "when the first running one finishes)",
    ),
  },
});

const list = createRoute({
  method: "get",
  path: "/v1/simulations",
  summary:
    "List the simulations kept (running, or finished within the replay window), newest first",
  security: BEARER_SECURITY,
  request: { query: z.object(pageQuery(20, 100)) },
  responses: {
    200: jsonContent(
      pageOf("simulations", SimulationStatusSchema),
      "A page of simulations",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const cancel = createRoute({
  method: "delete",
  path: "/v1/simulations/{id}",
  summary: "Cancel a running simulation, or forget a finished one",
  description: "A running simulation stops at its next chunk (202); its events so far stay " +
    "replayable and end with a `cancelled` event. A finished one is removed at once (204).",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    202: jsonContent(SimulationStatusSchema, "Cancellation requested"),
    204: { description: "Forgotten" },
    401: errorResponse("Missing or wrong API token"),
    403: errorResponse("The token's scope is read"),
    404: errorResponse("No such simulation (or it expired)"),
  },
});

const streamToken = streamTokenRoute("simulations", "simulation");

const status = createRoute({
  method: "get",
  path: "/v1/simulations/{id}",
  summary: "A simulation's status",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: {
      description: "Status",
      content: { "application/json": { schema: SimulationStatusSchema } },
    },
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such simulation (or it expired)"),
  },
});

const events = createRoute({
  method: "get",
  path: "/v1/simulations/{id}/events",
  summary: "Watch a simulation (Server-Sent Events)",
  description: "The same events as POST /v1/simulators/{id}/simulate streams: `meta`, `step`…, " +
    "`done` (or `error`, or `cancelled` {reason: unwatched|deleted|shutdown}). Event i has " +
    "`id: i`; with `Last-Event-ID: n` the stream resumes at n + 1. Replayable for 10 minutes " +
    "after the simulation finished. A running simulation that nobody watches for 10 s is " +
    "cancelled. A client that stops reading for 30 s is disconnected (it may reconnect with " +
    "Last-Event-ID). Under authentication, `?stream_token=` from POST …/stream-token replaces " +
    "the bearer token.",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    headers: LastEventIdHeaders,
    query: z.object({
      stream_token: z.string().max(200).optional().openapi({
        description: "From POST /v1/simulations/{id}/stream-token",
      }),
    }),
  },
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    204: { description: "Finished, and Last-Event-ID was its last event: nothing more to send" },
    400: errorResponse("Malformed Last-Event-ID"),
    401: errorResponse("Missing or wrong API token, or an invalid or expired stream token"),
    404: errorResponse("No such simulation (or it expired)"),
    429: errorResponse(
      "In a cluster: this node already streams as many simulations as it holds at once; retry, " +
        "or watch from another node",
    ),
  },
});

export const simulationRoutes: RouteModule = (app, deps) => {
  const registry = deps.simulations ?? new SimulationRegistry();
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;
  const stallMs = deps.sseStallMs ?? 30_000;

  app.openapi(start, async (c) => {
    const { simulator, ...request } = c.req.valid("json");
    const { id } = await startSimulation(deps, registry, simulator, request);
    return c.json({ id, events: `/v1/simulations/${id}/events` }, 202);
  });

  app.openapi(status, (c) => c.json(simulationStatus(registry, c.req.valid("param").id), 200));

  app.openapi(list, (c) => {
    const page = c.req.valid("query");
    return c.json({ ...registry.list(page), ...page }, 200);
  });

  app.openapi(cancel, (c) => {
    const { id } = c.req.valid("param");
    const status = simulationStatus(registry, id);
    if (registry.cancel(id) === "forgotten") return c.body(null, 204);
    return c.json(status, 202);
  });

  app.openapi(streamToken, (c) => {
    const { id } = c.req.valid("param");
    simulationStatus(registry, id);
    return c.json(mintStreamUrl(deps, `/v1/simulations/${id}/events`), 201);
  });

  app.openapi(events, (c) => {
    const { id } = c.req.valid("param");
    const from = firstEventAfter(c.req.valid("header")["last-event-id"]);
    const watch = watchSimulation(registry, id);
    if (watch.finished && from >= watch.length) {
      // EventSource stops reconnecting on a 204.
      watch.close();
      return c.body(null, 204);
    }
    return streamSSE(c, async (stream) => {
      try {
        await pumpEventLog(stream, watch, { from, keepAliveMs, stallMs });
      } finally {
        watch.close();
      }
    }) as unknown as Response & { _data: never };
  });
};
