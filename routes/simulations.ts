// Simulations for browser EventSource clients, which can only GET: POST starts one and answers its
// id; GET …/events streams it, replaying what was computed so far (also after it finished).
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { BEARER_SECURITY, errorResponse, IdParams } from "../src/http/schemas.ts";
import { formatSse, keepAlive } from "../src/http/sse.ts";
import type { RouteModule } from "../src/http/types.ts";
import { simulationStatus, startSimulation, watchSimulation } from "../src/simfluence/service.ts";
import { SimulationStartRequestSchema } from "../src/simfluence/simulation.ts";
import { SimulationRegistry, type StoredEvent } from "../src/simfluence/simulation_registry.ts";

const SimulationStatusSchema = z.object({
  id: z.string(),
  simulator: z.string(),
  status: z.enum(["running", "done", "failed"]),
  events: z.number().int(),
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
    429: errorResponse("Too many simulations running at once; retry when one has finished"),
  },
});

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
    "`done` (or `error`). Replayable for 10 minutes after the simulation finished.",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such simulation (or it expired)"),
  },
});

export const simulationRoutes: RouteModule = (app, deps) => {
  const registry = deps.simulations ?? new SimulationRegistry();
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;

  app.openapi(start, async (c) => {
    const { simulator, ...request } = c.req.valid("json");
    const { id } = await startSimulation(deps, registry, simulator, request);
    return c.json({ id, events: `/v1/simulations/${id}/events` }, 202);
  });

  app.openapi(status, (c) => c.json(simulationStatus(registry, c.req.valid("param").id), 200));

  app.openapi(events, (c) => {
    const { id } = c.req.valid("param");
    const pending: StoredEvent[] = [];
    let finished = false;
    let wake: (() => void) | null = null;
    const unsubscribe = watchSimulation(registry, id, (batch, done) => {
      pending.push(...batch);
      finished ||= done;
      wake?.();
    });
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const stopPings = keepAlive(stream, keepAliveMs);
      try {
        while (open) {
          if (pending.length > 0) {
            await stream.write(formatSse(pending.splice(0)));
            continue;
          }
          if (finished) break;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = null;
        }
      } finally {
        stopPings();
        unsubscribe();
      }
    }) as unknown as Response & { _data: never };
  });
};
