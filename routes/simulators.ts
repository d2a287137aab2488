// Simulators: fit (as a job), inspect, evaluate on held-out runs, rank influence, simulate.
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { toApiError } from "../src/http/api_error.ts";
import {
  BEARER_SECURITY,
  errorResponse,
  identifier,
  IdParams,
  jsonContent,
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import { formatSse, keepAlive, wantsEventStream } from "../src/http/sse.ts";
import type { RouteModule } from "../src/http/types.ts";
import { storedRequest } from "../src/jobs/resume.ts";
import { SIMULATOR_KINDS } from "../src/simfluence/math/types.ts";
import {
  CreateSimulatorSchema,
  deleteSimulator,
  evaluateOnRuns,
  prepareSimulation,
  RunIdsSchema,
  simulatorInfluence,
  startFit,
} from "../src/simfluence/service.ts";
import { SimulationRequestSchema } from "../src/simfluence/simulation.ts";
import { SIMULATORS } from "../src/simfluence/simulator_store.ts";

const SimulatorSchema = z.object({
  id: z.string(),
  study: z.string(),
  kind: z.enum(SIMULATOR_KINDS),
  status: z.enum(["fitting", "ready", "failed", "cancelled"]),
  jobId: z.string().nullable(),
  trainRuns: z.array(z.string()),
  validationRuns: z.array(z.string()),
  lambda: z.union([z.number(), z.literal("auto")]).nullable(),
  lambdaFactor: z.number().nullable(),
  fit: z.record(z.string(), z.unknown()).nullable(),
  unseenTrainExamples: z.object({ ids: z.array(z.string()), total: z.number().int() }).openapi({
    description: "Training ids of the study that no fitting run contains (A = B = 0): the first " +
      "20 and how many; all of them page by page at GET /v1/simulators/{id}/unseen-train-examples",
  }),
  deletedRuns: z.array(z.string()).openapi({
    description: "Fitting runs deleted since with DELETE /v1/runs/{id}?force=true",
  }),
  evaluation: z.unknown(),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).openapi("Simulator");

const MetricsSchema = z.object({
  allStepsMse: z.number().nullable(),
  allStepsMae: z.number().nullable(),
  finalStepMse: z.number().nullable(),
  finalStepSpearman: z.number().nullable(),
  count: z.number(),
});

const EvaluationSchema = z.object({
  simulator: z.string(),
  runs: z.array(MetricsSchema.extend({ run: z.string(), name: z.string(), steps: z.number() })),
  pooled: MetricsSchema.extend({ meanRunSpearman: z.number().nullable() }),
  fittingRuns: z.object({ ids: z.array(z.string()), total: z.number().int() }).openapi({
    description: "Evaluated runs the simulator was fitted on (only with allowFittingRuns)",
  }),
  evaluatedAt: z.string(),
}).openapi("Evaluation");

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/simulators",
    summary: "Fit a simulator on a study's runs (a job)",
    security: BEARER_SECURITY,
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: CreateSimulatorSchema,
            example: {
              study: "s1",
              kind: "linear",
              trainRuns: [
                "00000000-0000-4000-8000-000000000001",
                "00000000-0000-4000-8000-000000000002",
              ],
              validationRuns: ["00000000-0000-4000-8000-000000000003"],
              lambda: "auto",
            },
          },
        },
      },
    },
    responses: {
      202: jsonContent(
        z.object({ simulator: SimulatorSchema, job: z.string() }),
        "Fitting started",
      ),
      400: errorResponse(
        "Invalid request; the message names the field (a `scoreSet` in self mode, or lacking " +
          "pairs the fitting runs need, is one)",
      ),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such study or score set"),
      409: errorResponse("The score set is not ready"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/simulators",
    summary: "List simulators",
    security: BEARER_SECURITY,
    request: {
      query: z.object({
        study: identifier(256).optional(),
        ...pageQuery(50, 500),
      }),
    },
    responses: {
      200: jsonContent(
        pageOf("simulators", SimulatorSchema),
        "A page of simulators",
      ),
      400: errorResponse("Invalid query"),
      401: errorResponse("Missing or wrong API token"),
    },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/simulators/{id}",
    summary: "A simulator: kind, status, λ, runs used, fit statistics, unseen ids (a count and " +
      "the first 20), evaluation",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      200: jsonContent(SimulatorSchema, "The simulator"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
    },
  }),
  unseen: createRoute({
    method: "get",
    path: "/v1/simulators/{id}/unseen-train-examples",
    summary: "The simulator's unseen training ids, a page at a time",
    description: "Training ids of the study that no fitting run contains, in the study's order; " +
      "an empty page while the simulator is not ready.",
    security: BEARER_SECURITY,
    request: { params: IdParams, query: z.object(pageQuery(1000, 10_000)) },
    responses: {
      200: jsonContent(pageOf("unseenTrainExamples", z.string()), "A page of unseen ids"),
      400: errorResponse("Invalid query"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
    },
  }),
  remove: createRoute({
    method: "delete",
    path: "/v1/simulators/{id}",
    summary: "Delete a simulator (cancelling its fit if it is running)",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      204: { description: "Deleted" },
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
    },
  }),
  evaluate: createRoute({
    method: "post",
    path: "/v1/simulators/{id}/evaluate",
    summary: "Metrics on held-out runs, per run and pooled",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              runs: RunIdsSchema.min(1),
              allowFittingRuns: z.boolean().default(false).openapi({
                description: "Accept runs the simulator was fitted on (else a 409 naming them)",
              }),
            }).strict(),
            example: { runs: ["00000000-0000-4000-8000-000000000004"] },
          },
        },
      },
    },
    responses: {
      200: jsonContent(EvaluationSchema, "Metrics"),
      400: errorResponse("Invalid request"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
      409: errorResponse("Simulator not ready, or a run was used for fitting"),
    },
  }),
  influence: createRoute({
    method: "get",
    path: "/v1/simulators/{id}/influence",
    summary: "Training examples with the largest simulated effect on one test example",
    description: "`net` is the one-step change of the test loss when the example is in the " +
      "batch, at the test example's typical loss L̄: A·L̄ + B. Negative helps (lowers the loss).",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      query: z.object({
        test: z.string().min(1).max(256),
        top: z.coerce.number().int().min(1).max(1000).default(20),
      }),
    },
    responses: {
      200: jsonContent(
        z.object({
          test: z.string(),
          typicalLoss: z.number(),
          helpful: z.array(InfluenceEntry()),
          harmful: z.array(InfluenceEntry()),
          unseenTrainExamples: z.number().int(),
        }),
        "Ranking",
      ),
      400: errorResponse("Unknown test example"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
      409: errorResponse("Simulator not ready"),
    },
  }),
  simulate: createRoute({
    method: "post",
    path: "/v1/simulators/{id}/simulate",
    summary: "Simulate loss trajectories for a curriculum",
    description: "With `Accept: text/event-stream`: `meta`, then one `step` event per step " +
      "({t, losses}, sent in chunks of `chunkSteps`), then `done` ({finalLosses, elapsedMs}); " +
      "`: ping` comments keep the stream open and a disconnect stops the computation. " +
      "Otherwise JSON with every trajectory.",
    security: BEARER_SECURITY,
    request: {
      params: IdParams,
      body: {
        required: true,
        content: {
          "application/json": {
            schema: SimulationRequestSchema,
            example: {
              fromRun: "00000000-0000-4000-8000-000000000001",
              permute: 7,
              drop: ["e3"],
              repeat: { e1: 2 },
            },
          },
        },
      },
    },
    responses: {
      200: {
        description: "Trajectories (JSON) or an event stream",
        content: {
          "application/json": {
            schema: z.object({
              tests: z.array(z.string()),
              steps: z.number().int(),
              trajectories: z.record(z.string(), z.array(z.number())).openapi({
                description: "Test id → losses L_0 … L_T, computed in float32 and given as the " +
                  "shortest decimal that rounds to the same float32",
              }),
            }),
          },
          "text/event-stream": { schema: z.string() },
        },
      },
      400: errorResponse("Invalid request, e.g. unknown training ids"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such simulator"),
      409: errorResponse("Simulator not ready"),
    },
  }),
};

function InfluenceEntry() {
  return z.object({ trainExample: z.string(), A: z.number(), B: z.number(), net: z.number() });
}

let activeStreams = 0;
let writtenBatches = 0;
/** Streaming simulations in progress (tests use it to see a disconnect stop the work). */
export function activeSimulationStreams(): number {
  return activeStreams;
}

/**
 * Event batches (meta, each chunk of steps, done) written by streaming simulations so far: chunks
 * are computed only as they are written, so tests use it to see how far a stream got.
 */
export function streamedSimulationBatches(): number {
  return writtenBatches;
}

export const simulatorRoutes: RouteModule = (app, deps) => {
  const simulators = deps.store.get(SIMULATORS);
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;
  deps.jobs.registerResumer("simulator-fit", async (previous) => {
    const { simulator, job } = await startFit(deps, storedRequest(previous, CreateSimulatorSchema));
    return { job: job.id, simulator: simulator.id };
  });

  app.openapi(routes.create, async (c) => {
    const { simulator, job } = await startFit(deps, c.req.valid("json"));
    return c.json({ simulator, job: job.id }, 202);
  });

  app.openapi(routes.list, (c) => {
    const query = c.req.valid("query");
    return c.json({ ...simulators.list(query), limit: query.limit, offset: query.offset }, 200);
  });

  app.openapi(routes.get, (c) => c.json(simulators.require(c.req.valid("param").id), 200));

  app.openapi(routes.unseen, (c) => {
    const query = c.req.valid("query");
    const page = simulators.unseenPage(c.req.valid("param").id, query);
    return c.json({ ...page, limit: query.limit, offset: query.offset }, 200);
  });

  app.openapi(routes.remove, async (c) => {
    await deleteSimulator(deps, c.req.valid("param").id);
    return c.body(null, 204);
  });

  app.openapi(routes.evaluate, async (c) => {
    const evaluation = await evaluateOnRuns(deps, c.req.valid("param").id, c.req.valid("json"));
    return c.json(evaluation, 200);
  });

  app.openapi(routes.influence, async (c) => {
    const report = await simulatorInfluence(deps, c.req.valid("param").id, c.req.valid("query"));
    return c.json(report, 200);
  });

  app.openapi(routes.simulate, async (c) => {
    const { id } = c.req.valid("param");
    const simulation = await prepareSimulation(deps, id, c.req.valid("json"));
    if (!wantsEventStream(c.req.header("accept"))) {
      return c.json(await simulation.collect(), 200);
    }
    return streamSSE(c, async (stream) => {
      const controller = new AbortController();
      stream.onAbort(() => controller.abort(new Error("client disconnected")));
      const stopPings = keepAlive(stream, keepAliveMs);
      activeStreams++;
      try {
        for await (const events of simulation.events(controller.signal)) {
          await stream.write(formatSse(events));
          writtenBatches++;
        }
      } catch (e) {
        if (!controller.signal.aborted) {
          const api = toApiError(e);
          await stream.write(formatSse([{
            event: "error",
            data: { code: api?.code ?? "simulation_failed", message: api?.message ?? String(e) },
          }]));
        }
      } finally {
        activeStreams--;
        stopPings();
      }
    }) as unknown as Response & { _data: never };
  });
};
