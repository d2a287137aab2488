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
  pageOf,
  pageQuery,
} from "../src/http/schemas.ts";
import type { RouteModule } from "../src/http/types.ts";
import { LastEventIdHeaders, mintStreamUrl, streamTokenRoute } from "../src/http/event_streams.ts";
import { writeOrDrop } from "../src/http/sse_pump.ts";
import { JOB_STATUSES } from "../src/store/store.ts";

// Each field's meaning is defined once, in src/jobs/progress.ts; these descriptions repeat it.
export const JobProgressSchema = z.object({
  phase: z.string().openapi({ description: "What the job is doing now" }),
  fraction: z.number().min(0).max(1).openapi({
    description: "Share of the whole job's work done; never goes back",
  }),
  step: z.number().nullable().openapi({
    description: "How far the current phase is: `step` of `total`, counted in `unit`",
  }),
  total: z.number().nullable(),
  unit: z.string().nullable().optional().openapi({
    description: "What `step` and `total` count: steps (training), solves (a fit's λ trials " +
      "and refit), examples, …; null when the phase counts nothing",
  }),
  etaSeconds: z.number().nullable().openapi({
    description: "Seconds left at the rate `fraction` advanced over the last 10 s",
  }),
  throughput: z.number().nullable().openapi({
    description: "Measured per second over the last 10 s, in `throughputUnit`: the phase's " +
      "`unit`, unless the job measures its own (training: tokens); null when nothing is counted",
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
  backend: z.enum(["webgpu", "cpu"]).nullable().openapi({
    description:
      "Where its kernels ran: the backend of the node that ran it (SIMFLUENCE_BACKEND);" +
      " null before it starts, or when that node had no usable GPU runtime",
  }),
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
      pageOf("jobs", JobSchema),
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
    "`: ping` comments keep idle connections open. Each event's `id:` is the millisecond time " +
    "of its update (the final event's is past every progress update's); with " +
    "`Last-Event-ID: n` the stream skips a current state older than n and answers 204 when the " +
    "final event was already seen. A slow client gets only the latest progress (updates it has " +
    "not read yet are replaced); one that stops reading for 30 s is disconnected. Under " +
    "authentication, `?stream_token=` from POST /v1/jobs/{id}/stream-token replaces the bearer " +
    "token.",
  security: BEARER_SECURITY,
  request: {
    params: IdParams,
    headers: LastEventIdHeaders,
    query: z.object({
      stream_token: z.string().max(200).optional().openapi({
        description: "From POST /v1/jobs/{id}/stream-token",
      }),
    }),
  },
  responses: {
    200: {
      description: "An event stream",
      content: { "text/event-stream": { schema: z.string() } },
    },
    204: { description: "Finished, and Last-Event-ID was its final event" },
    400: errorResponse("Malformed Last-Event-ID"),
    401: errorResponse("Missing or wrong API token, or an invalid or expired stream token"),
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

const jobStreamToken = streamTokenRoute("jobs", "job");

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

/**
 * A job event's SSE id: the millisecond time of the progress update, or for the final event the
 * job's end, kept past its last progress update so that it always sorts last.
 */
function jobEventId(event: JobEvent): number {
  if (event.type === "progress") return Date.parse(event.progress.updatedAt);
  const lastProgress = event.job.progress ? Date.parse(event.job.progress.updatedAt) : 0;
  return Math.max(Date.parse(event.job.finishedAt ?? event.job.createdAt), lastProgress + 1);
}

export const jobRoutes: RouteModule = (app, deps) => {
  const keepAliveMs = deps.sseKeepAliveMs ?? 15_000;
  const stallMs = deps.sseStallMs ?? 30_000;

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

  app.openapi(jobStreamToken, (c) => {
    const { id } = c.req.valid("param");
    if (!deps.jobs.get(id)) throw ApiError.notFound(`job ${id}`);
    return c.json(mintStreamUrl(deps, `/v1/jobs/${id}/events`), 201);
  });

  app.openapi(jobEvents, (c) => {
    const { id } = c.req.valid("param");
    const lastSeen = c.req.valid("header")["last-event-id"];
    const seenUpTo = lastSeen === undefined ? -1 : Number(lastSeen);
    // Subscribe before streaming: events between now and the first write are queued, not lost.
    // Progress is a snapshot, so a client that reads slowly keeps only the latest one pending.
    let progress: JobEvent | null = null;
    let final: JobEvent | null = null;
    let wake: (() => void) | null = null;
    let replaying = true;
    const unsubscribe = deps.jobs.subscribe(id, (event) => {
      // A reconnecting client skips the current state it has seen (an equal id may be a later
      // update in the same millisecond, so that one is sent again).
      const seen = replaying && jobEventId(event) < seenUpTo;
      if (event.type === "progress") progress = seen ? null : event;
      else final = event;
      wake?.();
    });
    replaying = false;
    if (!unsubscribe) throw ApiError.notFound(`job ${id}`);
    const finalEvent = final as JobEvent | null;
    if (finalEvent && jobEventId(finalEvent) <= seenUpTo) {
      unsubscribe();
      return c.body(null, 204) as unknown as Response & { _data: never };
    }
    return streamSSE(c, async (stream) => {
      let open = true;
      stream.onAbort(() => {
        open = false;
        wake?.();
      });
      const write = (event: JobEvent) =>
        writeOrDrop(
          stream,
          `id: ${jobEventId(event)}\nevent: ${event.type}\ndata: ${eventData(event)}\n\n`,
          stallMs,
        );
      try {
        while (open) {
          if (progress) {
            const next: JobEvent = progress;
            progress = null;
            if (!await write(next)) break;
            continue;
          }
          if (final) {
            await write(final);
            break;
          }
          let timer: ReturnType<typeof setTimeout> | undefined;
          const woken = await new Promise<boolean>((resolve) => {
            wake = () => resolve(true);
            timer = setTimeout(resolve, keepAliveMs, false);
          });
          wake = null;
          clearTimeout(timer);
          if (!woken && open && !await writeOrDrop(stream, ": ping\n\n", stallMs)) break;
        }
      } finally {
        unsubscribe();
      }
    }) as unknown as Response & { _data: never };
  });
};
