// Follows a job's event stream (GET /v1/jobs/:id/events) to its end, drawing its progress, and
// reconnects when the stream drops before the final event.
import { CliError, EXIT } from "./errors.ts";
import type { Context } from "./context.ts";
import { duration, note, num } from "./output.ts";
import { progressBar } from "./progress.ts";

export interface JobProgress {
  phase: string;
  fraction: number;
  step?: number | null;
  /** Older servers call the step count `total`, newer ones `steps`. */
  total?: number | null;
  steps?: number | null;
  unit?: string | null;
  etaSeconds?: number | null;
  throughput?: number | null;
  throughputUnit?: string | null;
  message?: string | null;
  details?: Record<string, number> | null;
}

export interface Job {
  id: string;
  kind: string;
  status: "queued" | "running" | "succeeded" | "failed" | "cancelled" | string;
  progress: JobProgress | null;
  error: string | null;
  result: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const FINAL_EVENTS = new Set(["done", "failed", "cancelled"]);
const FINISHED = new Set(["succeeded", "failed", "cancelled"]);
const RECONNECTS = 10;

/** "phase 12/40 steps · ETA 1m05s · 3.2 steps/s" */
export function progressText(p: JobProgress): string {
  const parts = [p.phase];
  const steps = p.steps ?? p.total;
  if (p.step !== null && p.step !== undefined && steps) {
    parts.push(`${p.step}/${steps}${p.unit ? ` ${p.unit}` : ""}`);
  }
  if (p.details && typeof p.details.trainLoss === "number") {
    parts.push(`loss ${num(p.details.trainLoss)}`);
  } else if (p.details && typeof p.details.best === "number") {
    // A search (curriculum optimisation): the best objective so far.
    parts.push(`best ${num(p.details.best)}`);
  } else if (p.details && typeof p.details.objective === "number") {
    parts.push(`objective ${num(p.details.objective)}`);
  }
  if (p.etaSeconds !== null && p.etaSeconds !== undefined) {
    parts.push(`ETA ${duration(p.etaSeconds)}`);
  }
  if (p.throughput && p.throughputUnit && p.throughputUnit !== "fraction") {
    parts.push(`${num(p.throughput)} ${p.throughputUnit}/s`);
  }
  return parts.join(" · ");
}

/** Resolves with the finished job, whatever its status; the caller decides what failure means. */
export async function followJob(ctx: Context, jobId: string, label: string): Promise<Job> {
  const bar = progressBar(label, !ctx.json);
  let lastPhase: string | null = null;
  const show = (p: JobProgress) => {
    bar.update(Math.round(p.fraction * 1000), 1000, progressText(p));
    // Without a terminal there is no bar: one line per phase tells a log what happened.
    if (!ctx.json && p.phase !== lastPhase) {
      lastPhase = p.phase;
      if (!Deno.stderr.isTerminal()) note(`${label}: ${p.phase}`);
    }
  };
  const finished = (job: Job) => {
    if (job.status === "succeeded") bar.update(1000, 1000, "done");
    bar.stop();
    if (!ctx.json && !Deno.stderr.isTerminal()) note(`${label}: ${job.status}`);
    return job;
  };
  // A reconnect sends the last event id seen, so the service skips what was already shown.
  let lastEventId: string | null = null;
  // Ctrl-C stops watching, not the job: say how to get back to it.
  const interrupted = () => {
    bar.stop();
    console.error(`\nstopped following; job ${jobId} goes on (simfluence jobs follow ${jobId})`);
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  try {
    for (let attempt = 0; attempt <= RECONNECTS; attempt++) {
      try {
        const headers: Record<string, string> = lastEventId ? { "last-event-id": lastEventId } : {};
        for await (
          const event of ctx.client.events("GET", `/v1/jobs/${jobId}/events`, { headers })
        ) {
          if (event.id !== null) lastEventId = event.id;
          const data = JSON.parse(event.data);
          if (event.event === "progress") show(data as JobProgress);
          else if (FINAL_EVENTS.has(event.event)) return finished(data as Job);
        }
      } catch (e) {
        // A dropped connection is retried below; the server's own refusals are not.
        if (
          !(e instanceof CliError && e.exitCode === EXIT.connection) && !(e instanceof TypeError)
        ) {
          throw e;
        }
      }
      const job = await ctx.client.get<Job>(`/v1/jobs/${jobId}`);
      if (FINISHED.has(job.status)) return finished(job);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    throw new CliError(`lost the event stream of job ${jobId}`, EXIT.connection);
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    bar.stop();
  }
}

/** A job that did not succeed is the operation failing: its error becomes the CLI's. */
export function requireSucceeded(job: Job): Job {
  if (job.status === "succeeded") return job;
  throw new CliError(
    `job ${job.id} ${job.status}${job.error ? `: ${job.error}` : ""}`,
    EXIT.failed,
  );
}
