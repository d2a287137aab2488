// Simulators: fit (as a job), inspect, evaluate on held-out runs, rank influence, simulate.
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { ApiError, toApiError } from "../src/http/api_error.ts";
import {
  BEARER_SECURITY,
  errorResponse,
  IdParams,
  jsonContent,
  pageQuery,
} from "../src/http/schemas.ts";
import { formatSse, keepAlive, wantsEventStream } from "../src/http/sse.ts";
import type { RouteModule } from "../src/http/types.ts";
import { listSome } from "../src/runs/run_input.ts";
import { rankInfluence } from "../src/simfluence/math/ranking.ts";
import { SIMULATOR_KINDS } from "../src/simfluence/math/types.ts";
import { evaluateSimulator } from "../src/simfluence/evaluate.ts";
import { fitJob, type FitJobInput } from "../src/simfluence/fit_job.ts";
import {
  collectSimulation,
  planSimulation,
  simulationEvents,
  SimulationRequestSchema,
} from "../src/simfluence/simulation.ts";
import { loadStudyRuns } from "../src/simfluence/study_runs.ts";
import { RUNS } from "../src/runs/run_store.ts";
import { SIMULATORS } from "../src/simfluence/simulator_store.ts";

const RunIds = z.array(z.string().min(1).max(200)).max(10_000);

const CreateSimulatorSchema = z.object({
  study: z.string().min(1).max(256),
  kind: z.enum(SIMULATOR_KINDS),
  trainRuns: RunIds.min(1),
  validationRuns: RunIds.default([]),
  lambda: z.union([z.number().min(0).max(1e12), z.literal("auto")]).optional().openapi({
    description: "Ridge factor relative to each test example's mean squared design-row norm, " +
      'or "auto" (default) to pick it from 1e-4 … 1e2 by held-out MSE on `validationRuns` ' +
      "(the last 20 % of the fitting runs when none are given). Not for kind `scores`.",
  }),
  scores: z.record(z.string().max(256), z.record(z.string().max(256), z.number())).optional()
    .openapi({
      description: "kind `scores` only: I(test, train) from any attribution tool, as " +
        "{test id: {train id: score}}; positive = training on it lowers the test loss. " +
        "Missing pairs count as 0.",
    }),
}).strict().openapi("CreateSimulator");

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
  unseenTrainExamples: z.array(z.string()),
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
  evaluatedAt: z.string(),
}).openapi("Evaluation");

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/simulators",
    summary: "Fit a simulator on a study's runs (a job)",
    security: BEARER_SECURITY,
    request: {
      body: { required: true, content: { "application/json": { schema: CreateSimulatorSchema } } },
    },
    responses: {
      202: jsonContent(
        z.object({ simulator: SimulatorSchema, job: z.string() }),
        "Fitting started",
      ),
      400: errorResponse("Invalid request; the message names the field"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse("No such study"),
    },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/simulators",
    summary: "List simulators",
    security: BEARER_SECURITY,
    request: {
      query: z.object({
        study: z.string().min(1).max(256).optional(),
        ...pageQuery(50, 500),
      }),
    },
    responses: {
      200: jsonContent(
        z.object({ simulators: z.array(SimulatorSchema), total: z.number().int() }),
        "A page of simulators",
      ),
      400: errorResponse("Invalid query"),
      401: errorResponse("Missing or wrong API token"),
    },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/simulators/{id}",
    summary: "A simulator: kind, status, λ, runs used, fit statistics, unseen ids, evaluation",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      200: jsonContent(SimulatorSchema, "The simulator"),
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
              runs: RunIds.min(1),
              allowFittingRuns: z.boolean().default(false),
            }).strict(),
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
        content: { "application/json": { schema: SimulationRequestSchema } },
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
              trajectories: z.record(z.string(), z.array(z.number())),
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
  const runs = deps.store.get(RUNS);
  const simulators = deps.store.get(SIMULATORS);
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;
  const runtime = () => deps.gpu.error === null ? deps.gpu.runtime : null;

  app.openapi(routes.create, (c) => {
    const body = c.req.valid("json");
    const testIds = runs.studyTestExamples(body.study);
    if (!testIds) throw ApiError.notFound(`study "${body.study}"`, { field: "study" });
    const seen = new Map<string, string>();
    for (const field of ["trainRuns", "validationRuns"] as const) {
      body[field].forEach((id, k) => {
        const record = runs.get(id);
        if (!record || record.study !== body.study) {
          throw ApiError.badRequest(
            `${field}[${k}]: run ${id} does not exist in study "${body.study}"`,
            {
              field: `${field}[${k}]`,
            },
          );
        }
        if (seen.has(id)) {
          throw ApiError.badRequest(
            `${field}[${k}]: run ${id} is already listed in ${seen.get(id)}`,
            {
              field: `${field}[${k}]`,
            },
          );
        }
        seen.set(id, field);
      });
    }
    if (body.kind === "scores") {
      if (!body.scores) {
        throw ApiError.badRequest('kind "scores" needs `scores`', { field: "scores" });
      }
      if (body.lambda !== undefined) {
        throw ApiError.badRequest('kind "scores" fits one scale; `lambda` does not apply', {
          field: "lambda",
        });
      }
      const known = new Set(testIds);
      const unknown = Object.keys(body.scores).filter((t) => !known.has(t));
      if (unknown.length > 0) {
        throw ApiError.badRequest(
          `scores name test examples outside the study: ${unknown.slice(0, 5).join(", ")}`,
          {
            field: "scores",
            unknown: listSome(unknown),
          },
        );
      }
      for (const [test, row] of Object.entries(body.scores)) {
        for (const [train, v] of Object.entries(row)) {
          if (!Number.isFinite(v)) {
            throw ApiError.badRequest(`scores.${test}.${train} must be finite`, {
              field: `scores.${test}.${train}`,
            });
          }
        }
      }
    } else if (body.scores) {
      throw ApiError.badRequest('`scores` is only for kind "scores"', { field: "scores" });
    }
    const record = simulators.create({
      study: body.study,
      kind: body.kind,
      trainRuns: body.trainRuns,
      validationRuns: body.validationRuns,
      lambda: body.kind === "scores" ? null : body.lambda ?? "auto",
    });
    const input: FitJobInput = {
      simulator: record.id,
      study: body.study,
      kind: body.kind,
      trainRuns: body.trainRuns,
      validationRuns: body.validationRuns,
      lambda: record.lambda,
    };
    const job = deps.jobs.submit(
      "simulator-fit",
      input,
      fitJob({ runs, simulators, runtime: runtime(), scores: body.scores }),
    );
    simulators.setJob(record.id, job.id);
    // A job cancelled (or shut down) while still queued never runs its handler, which would
    // otherwise mark the simulator; markFinished leaves a simulator that is no longer fitting.
    deps.jobs.subscribe(job.id, (event) => {
      if (event.type === "cancelled") simulators.markFinished(record.id, "cancelled", null);
      if (event.type === "failed") simulators.markFinished(record.id, "failed", event.job.error);
    }, false);
    return c.json({ simulator: simulators.get(record.id)!, job: job.id }, 202);
  });

  app.openapi(routes.list, (c) => c.json(simulators.list(c.req.valid("query")), 200));

  app.openapi(routes.get, (c) => c.json(simulators.require(c.req.valid("param").id), 200));

  app.openapi(routes.remove, async (c) => {
    const { id } = c.req.valid("param");
    const record = simulators.require(id);
    if (record.status === "fitting" && record.jobId) {
      try {
        deps.jobs.cancel(record.jobId);
      } catch {
        // Already finished: nothing to cancel.
      }
    }
    await simulators.delete(id);
    return c.body(null, 204);
  });

  app.openapi(routes.evaluate, async (c) => {
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const record = simulators.require(id);
    const testIds = runs.studyTestExamples(record.study) ?? [];
    const sim = await simulators.load(id, testIds);
    const fitting = new Set([...record.trainRuns, ...record.validationRuns]);
    const reused = body.runs.filter((r) => fitting.has(r));
    if (reused.length > 0 && !body.allowFittingRuns) {
      throw ApiError.conflict(
        `run(s) ${reused.slice(0, 5).join(", ")} were used to fit this simulator; evaluate on ` +
          'held-out runs, or send "allowFittingRuns": true',
        { field: "runs", fittingRuns: listSome(reused) },
      );
    }
    const stored = await loadStudyRuns(runs, record.study, body.runs, "runs");
    const evaluation = await evaluateSimulator(runtime(), sim, stored);
    simulators.setEvaluation(id, evaluation);
    return c.json(evaluation, 200);
  });

  app.openapi(routes.influence, async (c) => {
    const { id } = c.req.valid("param");
    const { test, top } = c.req.valid("query");
    const record = simulators.require(id);
    const testIds = runs.studyTestExamples(record.study) ?? [];
    const z = testIds.indexOf(test);
    if (z < 0) throw ApiError.badRequest(`unknown test example "${test}"`, { field: "test" });
    const sim = await simulators.load(id, testIds);
    const ranking = rankInfluence(sim.params, z, { topK: top });
    const named = (entries: typeof ranking.helpful) =>
      entries.map((e) => ({ trainExample: sim.trainIds[e.index], A: e.A, B: e.B, net: e.net }));
    return c.json({
      test,
      typicalLoss: ranking.typicalLoss,
      helpful: named(ranking.helpful),
      harmful: named(ranking.harmful),
      unseenTrainExamples: ranking.unseen,
    }, 200);
  });

  app.openapi(routes.simulate, async (c) => {
    const { id } = c.req.valid("param");
    const plan = await planSimulation({ runs, simulators }, id, c.req.valid("json"));
    const rt = runtime();
    if (!wantsEventStream(c.req.header("accept"))) {
      return c.json(await collectSimulation(rt, plan), 200);
    }
    return streamSSE(c, async (stream) => {
      const controller = new AbortController();
      stream.onAbort(() => controller.abort(new Error("client disconnected")));
      const stopPings = keepAlive(stream, keepAliveMs);
      activeStreams++;
      try {
        for await (const events of simulationEvents(rt, plan, controller.signal)) {
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
