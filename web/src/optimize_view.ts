// View: curriculum optimisation. The form (optimize_form.ts) starts POST /v1/curricula/optimize;
// its job is followed live with the search's objective falling (optimize_result.ts), then the
// kept optimisation is shown: predicted curves against the observed ones of its verification
// runs, predicted against observed gain with its 95 % interval, downloads. Below, the study's kept
// optimisations (GET /v1/curricula/optimizations?study=) with their predicted and observed gains,
// each one shown again or deleted.
import { call, enc, getJson, listAll } from "./api.ts";
import { el, errorBox, fmt, guarded, note, put, table } from "./dom.ts";
import { JobView } from "./job_progress.ts";
import { type Optimization, type OptimizationSummary, predictedGain } from "./optimization.ts";
import { optimizeForm } from "./optimize_form.ts";
import { optimizationResult, SearchChart } from "./optimize_result.ts";
import type { View } from "./view.ts";

function observedGain(o: OptimizationSummary): string {
  const v = o.verified;
  return v ? `${fmt(v.improvement)} [${fmt(v.lower)}, ${fmt(v.upper)}]` : "–";
}

export function optimizeView(): View {
  const current = el("div", { class: "optimize-current", "aria-live": "polite" });
  const listArea = el("div", { class: "optimize-list" });
  const messages = el("div");
  let following: JobView | null = null;
  let shownId: string | null = null;

  const form = optimizeForm(
    (optimization, job) => void follow(optimization, job),
    () => void loadList(),
  );

  async function record(id: string): Promise<Optimization> {
    return await getJson<Optimization>(`/v1/curricula/optimizations/${enc(id)}`);
  }

  /** Follows the job (search chart live), then shows the record it kept. */
  async function follow(optimization: OptimizationSummary, job: string): Promise<void> {
    following?.close();
    shownId = optimization.id;
    const view = new JobView(job, `Optimising (${optimization.method})`);
    const search = new SearchChart(optimization.method);
    const result = el("div");
    following = view;
    put(current, view.root, search.root, result);
    await guarded(result, async () => {
      await view.follow((p) => search.progress(p));
      if (shownId !== optimization.id) return; // another one was opened meanwhile
      const kept = await record(optimization.id);
      search.stored(kept);
      await show(kept, result);
    });
    await loadList();
  }

  async function show(o: Optimization, where: HTMLElement): Promise<void> {
    const view = await optimizationResult(o);
    put(where, view.root);
    view.shown();
  }

  /** A kept optimisation: followed if its job still runs, else shown as it is. */
  async function open(id: string): Promise<void> {
    following?.close();
    following = null;
    shownId = id;
    put(current);
    await guarded(current, async () => {
      const o = await record(id);
      if (o.status === "running" && o.job) return void await follow(o, o.job);
      const search = new SearchChart(o.method);
      const result = el("div");
      put(current, search.root, result);
      search.stored(o);
      await show(o, result);
    });
  }

  async function remove(id: string, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    put(messages);
    try {
      await call(`/v1/curricula/optimizations/${enc(id)}`, { method: "DELETE" });
      if (shownId === id) put(current);
    } catch (e) {
      put(messages, errorBox(e));
    }
    await loadList();
  }

  let ticket = 0;
  async function loadList(): Promise<void> {
    const study = form.study();
    const mine = ++ticket;
    await guarded(messages, async () => {
      if (!study) return put(listArea);
      const items = await listAll<OptimizationSummary>(
        `/v1/curricula/optimizations?study=${enc(study)}`,
        "optimizations",
      );
      if (mine !== ticket) return;
      if (items.length === 0) {
        return put(listArea, el("h3", {}, "Kept optimisations"), note("None yet in this study."));
      }
      const node = table(
        [
          "id",
          "method",
          "status",
          "kept",
          "predicted gain",
          "observed gain [95 %]",
          "created",
          "",
        ],
        items.map((o) => {
          const showButton = el("button", {
            type: "button",
            class: "link",
            name: "show-optimization",
            onclick: () => void open(o.id),
          }, o.id.slice(0, 8));
          const deleteButton = el("button", {
            type: "button",
            class: "secondary",
            name: "delete-optimization",
          }, "Delete");
          deleteButton.addEventListener("click", () => void remove(o.id, deleteButton));
          return [
            showButton,
            o.method,
            o.status + (o.error ? `: ${o.error}` : ""),
            `${o.budget.keep} of ${o.budget.of}`,
            fmt(predictedGain(o)),
            observedGain(o),
            new Date(o.createdAt).toLocaleString(),
            deleteButton,
          ];
        }),
        { class: "optimizations" },
      );
      node.querySelectorAll("tbody tr").forEach((tr, i) => {
        (tr as HTMLElement).dataset.optimization = items[i].id;
        (tr as HTMLElement).dataset.status = items[i].status;
      });
      put(listArea, el("h3", {}, "Kept optimisations"), node);
    });
  }

  const root = el(
    "div",
    { class: "view", id: "view-optimize" },
    messages,
    form.root,
    current,
    listArea,
  );
  return {
    root,
    refresh: async () => {
      await form.refresh();
      await loadList();
    },
  };
}
