// View: every job of the service, newest first (GET /v1/jobs), running and recent, with their
// progress and a Cancel button for those not finished (DELETE /v1/jobs/:id). While the tab is
// shown and some job is unfinished the list reloads every 2 s. Below it, the nodes that run them.
import { call, enc, getJson } from "./api.ts";
import { el, errorBox, field, guarded, note, put, select, table } from "./dom.ts";
import type { Job } from "./job_progress.ts";
import type { View } from "./view.ts";
import { nodesPanel } from "./nodes_panel.ts";

interface ListedJob extends Job {
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const UNFINISHED = new Set(["queued", "running"]);
const POLL_MS = 2000;
const PAGE = 50;

function when(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : "–";
}

function progressText(job: ListedJob): string {
  if (job.status === "succeeded") return "done";
  const p = job.progress;
  if (!p) return job.status === "queued" ? "waiting" : "–";
  return `${(100 * p.fraction).toFixed(0)} % · ${p.phase}`;
}

export function jobsView(): View {
  const statusPicker = select([
    { value: "", label: "all" },
    { value: "running", label: "running" },
    { value: "queued", label: "queued" },
    { value: "succeeded", label: "succeeded" },
    { value: "failed", label: "failed" },
    { value: "cancelled", label: "cancelled" },
  ], { name: "job-status" });
  const listArea = el("div", { class: "jobs-list", "aria-live": "polite" });
  const messages = el("div");
  const nodes = nodesPanel();
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function cancel(job: ListedJob, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    put(messages);
    try {
      await call(`/v1/jobs/${enc(job.id)}`, { method: "DELETE" });
    } catch (e) {
      put(messages, errorBox(e));
    }
    await load();
  }

  async function load(): Promise<void> {
    clearTimeout(timer);
    await guarded(messages, async () => {
      const status = statusPicker.value ? `&status=${enc(statusPicker.value)}` : "";
      const page = await getJson<{ jobs: ListedJob[]; total: number }>(
        `/v1/jobs?limit=${PAGE}${status}`,
      );
      put(
        listArea,
        page.jobs.length === 0 ? note("No jobs yet.") : table(
          ["job", "kind", "status", "progress", "created", "started", "finished", ""],
          page.jobs.map((job) => {
            const button = el("button", {
              type: "button",
              class: "secondary",
              name: "cancel-job",
              "data-job": job.id,
            }, "Cancel");
            button.addEventListener("click", () => void cancel(job, button));
            return [
              el("code", {}, job.id.slice(0, 8)),
              job.kind,
              el("span", { class: `job-state ${job.status}` }, job.status),
              progressText(job) + (job.error ? ` · ${job.error}` : ""),
              when(job.createdAt),
              when(job.startedAt),
              when(job.finishedAt),
              UNFINISHED.has(job.status) ? button : "",
            ];
          }),
          { class: "jobs-table" },
        ),
        page.total > page.jobs.length
          ? note(`the newest ${page.jobs.length} of ${page.total} jobs`)
          : null,
      );
      // Rows name their job for tests and scripts.
      listArea.querySelectorAll("tbody tr").forEach((tr, i) => {
        (tr as HTMLElement).dataset.job = page.jobs[i].id;
        (tr as HTMLElement).dataset.status = page.jobs[i].status;
      });
      await nodes.load();
      if (page.jobs.some((j) => UNFINISHED.has(j.status))) {
        timer = setTimeout(() => {
          if (root.isConnected) void load();
        }, POLL_MS);
      }
    });
  }

  statusPicker.addEventListener("change", () => void load());
  const root = el(
    "div",
    { class: "view", id: "view-jobs" },
    el(
      "div",
      { class: "row" },
      field("Status", statusPicker),
      el("button", {
        type: "button",
        class: "secondary",
        name: "refresh-jobs",
        onclick: () => void load(),
      }, "Refresh"),
    ),
    messages,
    listArea,
    nodes.root,
  );
  return {
    root,
    refresh: async () => {
      put(messages);
      await load();
    },
  };
}
