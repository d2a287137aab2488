// A job followed live from GET /v1/jobs/:id/events: progress bar, phase, ETA, throughput, a
// cancel button; a lost stream reconnects (the stream starts with the current state) and says so.
import { ApiFailure, call, enc } from "./api.ts";
import { el, errorBox, fmt, put } from "./dom.ts";
import { stream } from "./sse.ts";

export interface JobProgress {
  phase: string;
  fraction: number;
  step: number | null;
  total: number | null;
  etaSeconds: number | null;
  throughput: number | null;
  throughputUnit?: string | null;
  message: string | null;
  details?: Record<string, number> | null;
}

export interface Job {
  id: string;
  kind: string;
  status: string;
  progress: JobProgress | null;
  error: string | null;
  result: unknown;
}

/** Final events, and the job statuses they carry. */
const FINAL = new Set(["done", "failed", "cancelled"]);
const FINAL_STATUSES = new Set(["succeeded", "failed", "cancelled"]);
const RECONNECTS = 5;

function eta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export class JobView {
  readonly root: HTMLElement;
  private bar = el("progress", { max: 1, value: 0, "aria-label": "job progress" });
  private status = el("span", { class: "job-status" }, "starting");
  private line = el("span", { class: "job-line" });
  private alert = el("div");
  private cancelButton = el("button", {
    type: "button",
    class: "secondary",
    name: "cancel",
  }, "Cancel");
  private abort = new AbortController();

  constructor(readonly jobId: string, title: string) {
    this.root = el(
      "section",
      { class: "job", "data-job": jobId, "aria-live": "polite" },
      el("h4", {}, `${title} · job `, el("code", {}, jobId.slice(0, 8))),
      el("div", { class: "job-bar" }, this.bar, this.status, this.cancelButton),
      this.line,
      this.alert,
    );
    this.cancelButton.addEventListener("click", () => void this.cancel());
  }

  /** Follows the job to its end; `onProgress` sees every progress event. Resolves to the job. */
  async follow(onProgress?: (p: JobProgress) => void): Promise<Job> {
    for (let attempt = 0; attempt <= RECONNECTS; attempt++) {
      try {
        for await (
          const message of stream(`/v1/jobs/${enc(this.jobId)}/events`, {
            signal: this.abort.signal,
          })
        ) {
          const data = JSON.parse(message.data);
          if (message.event === "progress") {
            this.show(data as JobProgress);
            onProgress?.(data as JobProgress);
          } else if (FINAL.has(message.event)) {
            return this.finish(data as Job);
          } else if (data && typeof data === "object" && "status" in data) {
            // the job's current state, sent first
            const job = data as Job;
            if (job.progress) this.show(job.progress);
            if (FINAL_STATUSES.has(job.status)) return this.finish(job);
          }
        }
      } catch (e) {
        if (this.abort.signal.aborted) break;
        if (e instanceof ApiFailure && e.status > 0 && e.status < 500) {
          put(this.alert, errorBox(e));
          throw e;
        }
      }
      // The stream ended without a final event: say so and reconnect.
      put(
        this.alert,
        el("p", { class: "note warn", role: "status" }, "stream lost; reconnecting…"),
      );
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
    }
    const lost = new Error("the job's event stream was lost; reload to see its state");
    put(this.alert, errorBox(lost));
    throw lost;
  }

  private show(p: JobProgress): void {
    // The phases seen so far, for a reader (or a test) that missed the live ones.
    const phases = new Set((this.root.dataset.phases ?? "").split(",").filter((s) => s !== ""));
    phases.add(p.phase);
    this.root.dataset.phases = [...phases].join(",");
    this.bar.value = p.fraction;
    this.status.textContent = `${(100 * p.fraction).toFixed(0)} % · ${p.phase}`;
    const throughput = p.throughput === null
      ? "–"
      : `${fmt(p.throughput, 1)} ${p.throughputUnit ?? "steps"}/s`;
    put(
      this.line,
      `ETA ${eta(p.etaSeconds)} · ${throughput}`,
      p.step !== null && p.total !== null ? ` · step ${p.step}/${p.total}` : "",
      p.message ? ` · ${p.message}` : "",
    );
    this.alert.replaceChildren();
  }

  private finish(job: Job): Job {
    this.cancelButton.disabled = true;
    this.root.dataset.status = job.status;
    if (job.status === "succeeded") {
      this.bar.value = 1;
      this.status.textContent = "100 % · done";
      this.alert.replaceChildren();
    } else {
      this.status.textContent = job.status;
      put(
        this.alert,
        errorBox(new Error(`job ${job.status}${job.error ? `: ${job.error}` : ""}`)),
      );
    }
    return job;
  }

  private async cancel(): Promise<void> {
    try {
      await call(`/v1/jobs/${enc(this.jobId)}`, { method: "DELETE" });
    } catch (e) {
      put(this.alert, errorBox(e));
    }
  }

  /** Stops following (the view went away). */
  close(): void {
    this.abort.abort();
  }
}
