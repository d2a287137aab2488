// Background jobs: list, inspect, watch (Server-Sent Events) and cancel.
import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { ApiError } from "../src/http/api_error.ts";
import type { JobEvent } from "../src/jobs/manager.ts";
import {
  BEARER_SECURITY,
  errorResponse,
  IdParams,
  jsonContent,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { JOB_STATUSES } from "../src/store/store.ts";

export const JobProgressSchema = z.object({
  phase: z.string(),
  fraction: z.number().min(0).max(1),
  step: z.number().nullable(),
  total: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  throughput: z.number().nullable().openapi({
    description: "Per second, in `throughputUnit`: steps of the current phase by default, " +
      "fraction of the job without steps, or the job's own unit (training: tokens)",
  }),
  throughputUnit: z.string().nullable().optional(),
  message: z.string().nullable(),
  details: z.record(z.string(), z.number()).nullable().optional().openapi({
    description: "Job-specific figures, e.g. training: run, runs, runStep, runSteps, trainLoss, " +
      "tokensPerSecond",
  }),
  updatedAt: z.string(),
}).openapi("JobProgress");

export const JobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(JOB_STATUSES),
  input: z.unknown(),
  progress: JobProgressSchema.nullable(),
  error: z.string().nullable(),
  result: z.unknown(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
}).openapi("Job");

const listJobs = createRoute({
  method: "get",
  path: "/v1/jobs",
  summary: "List jobs, newest first",
  security: BEARER_SECURITY,
  request: {
    query: z.object({
      ...pageQuery(20, 100),
      status: z.enum(JOB_STATUSES).optional(),
      kind: z.string().min(1).max(100).optional(),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({
        jobs: z.array(JobSchema),
        total: z.number().int(),
        limit: z.number().int(),
        offset: z.number().int(),
      }),
      "A page of jobs",
    ),
    400: errorResponse("Invalid query"),
    401: errorResponse("Missing or wrong API token"),
  },
});

const getJob = createRoute({
  method: "get",
  path: "/v1/jobs/{id}",
  summary: "One job's state, progress and result",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: jsonContent(JobSchema, "The job"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such job"),
  },
});

const jobEvents = createRoute({
  method: "get",
  path: "/v1/jobs/{id}/events",
  summary: "Watch a job (Server-Sent Events)",
  description:
    "First the current state, then `progress` events (data: JobProgress) and one final " +
    "`done`, `failed` or `cancelled` event (data: Job), after which the stream ends. " +
    "`: ping` comments keep idle connections open.",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such job"),
  },
});

const cancelJob = createRoute({
  method: "delete",
  path: "/v1/jobs/{id}",
  summary: "Cancel a job",
  description: "A queued job is cancelled at once (200); a running one is asked to stop and " +
    "settles as `cancelled` shortly (202).",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    200: jsonContent(JobSchema, "Cancelled"),
    202: jsonContent(JobSchema, "Cancellation requested"),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such job"),
    409: errorResponse("The job already finished"),
  },
});

const resumeJob = createRoute({
  method: "post",
  path: "/v1/jobs/{id}/resume",
  summary: "Redo a failed, cancelled or interrupted job as a new job",
  description: "Starts a new job with the stored request of a failed or cancelled one (a job " +
    "interrupted by a crash is failed with `interrupted`). A training-runs job records only " +
    "the runs its study lacks, with the same names and seeds; fits and influence jobs start " +
    "again from the beginning.",
  security: BEARER_SECURITY,
  request: { params: IdParams },
  responses: {
    202: jsonContent(
      z.object({ job: z.string(), resumes: z.string() }).loose(),
      "The new job (and what its kind reports, e.g. training's `runNames` and `skipped`)",
    ),
    401: errorResponse("Missing or wrong API token"),
    404: errorResponse("No such job"),
    409: errorResponse("The job is not failed or cancelled, or its kind cannot be resumed"),
  },
});

function eventData(event: JobEvent): string {
  return JSON.stringify(event.type === "progress" ? event.progress : event.job);
}

export const jobRoutes: RouteModule = (app, deps) => {
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;

  app.openapi(listJobs, (c) => {
    const query = c.req.valid("query");
    const page = deps.jobs.list(query);
    return c.json({ ...page, limit: query.limit, offset: query.offset }, 200);
  });

  app.openapi(getJob, (c) => {
    const { id } = c.req.valid("param");
    const job = deps.jobs.get(id);
    if (!job) throw ApiError.notFound(`job ${id}`);
    return c.json(job, 200);
  });

  app.openapi(resumeJob, async (c) => {
    const { id } = c.req.valid("param");
    const { job, ...rest } = await deps.jobs.resume(id);
    return c.json({ ...rest, job, resumes: id }, 202);
  });

  app.openapi(cancelJob, (c) => {
    const { id } = c.req.valid("param");
    const job = deps.jobs.cancel(id);
    return c.json(job, job.status === "cancelled" ? 200 : 202);
  });

  app.openapi(jobEvents, (c) => {
    const { id } = c.req.valid("param");
    // Subscribe before streaming: events between now and the first write are queued, not lost.
    const pending: JobEvent[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = deps.jobs.subscribe(id, (event) => {
      pending.push(event);
      wake?.();
    });
    if (!unsubscribe) throw ApiError.notFound(`job ${id}`);
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const ping = setInterval(() => void stream.write(": ping\n\n"), keepAliveMs);
      try {
        while (open) {
          const event = pending.shift();
          if (!event) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
            continue;
          }
          await stream.writeSSE({ event: event.type, data: eventData(event) });
          if (event.type !== "progress") break;
        }
      } finally {
        clearInterval(ping);
        unsubscribe();
      }
    }) as unknown as Response & { _data: never };
  });
};
