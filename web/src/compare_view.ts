// View: every attribution method of a study side by side. Each ready simulator (Simfluence's
// kinds, and influence scores, TracIn or EK-FAC, turned into a simulator) gets its held-out metrics
// (POST /v1/simulators/:id/evaluate on the chosen runs it was not fitted on) and its linear
// datamodeling score: the kept one (GET /v1/evaluations?study=), or one computed here on the chosen
// runs (POST /v1/evaluations/lds, a job per method).
import { enc, getJson, listAll, listStudies, type Run, runsOf, type Simulator } from "./api.ts";
import { el, field, fmt, guarded, note, put, select, selectedValues, table } from "./dom.ts";
import { JobView } from "./job_progress.ts";
import type { View } from "./view.ts";

interface Metrics {
  allStepsMse: number | null;
  allStepsMae: number | null;
  finalStepMse: number | null;
  finalStepSpearman: number | null;
  count: number;
}

/** An LDS as the page shows it, from a kept evaluation or a job's result. */
interface Lds {
  lds: number | null;
  interval: { lower: number; upper: number } | null;
  runs: number;
  source: string;
}

/** A kept LDS evaluation (GET /v1/evaluations, /v1/evaluations/:id). */
interface LdsRecord {
  id: string;
  method: { simulator?: string; scores?: string };
  /** A list shows up to 20 ids and the count; one evaluation every id. */
  runs: { ids: string[]; total: number };
  lds: number | null;
  interval: { lower: number; upper: number } | null;
  status: string;
  createdAt: string;
}

const MIN_LDS_RUNS = 5;

const KIND_NAMES: Record<string, string> = {
  linear: "Simfluence-Linear",
  additive: "Simfluence-Additive",
  multiplicative: "Simfluence-Multiplicative",
  scores: "influence scores (one fitted scale)",
};

function asLds(record: LdsRecord, source: string): Lds {
  return {
    lds: record.lds,
    interval: record.interval,
    runs: record.runs.total,
    source,
  };
}

function ldsText(lds: Lds | undefined): string {
  if (!lds) return "–";
  const interval = lds.interval
    ? ` [${lds.interval.lower.toFixed(2)}, ${lds.interval.upper.toFixed(2)}]`
    : "";
  return `${fmt(lds.lds, 3)}${interval}`;
}

function fittingRunsOf(s: Simulator): Set<string> {
  const list = (v: unknown) => Array.isArray(v) ? v as string[] : [];
  return new Set([...list(s.trainRuns), ...list(s.validationRuns)]);
}

/** Kept LDS evaluations of the study (every POST /v1/evaluations/lds keeps one). */
function keptLds(study: string): Promise<LdsRecord[]> {
  return listAll<LdsRecord>(`/v1/evaluations?study=${enc(study)}`, "evaluations");
}

export function compareView(): View {
  const studyPicker = el("select", { name: "compare-study" });
  const formArea = el("div");
  const tableArea = el("div", { class: "comparison", "aria-live": "polite" });
  const jobsArea = el("div");
  const messages = el("div");
  let simulators: Simulator[] = [];
  /** Score sets with a kept LDS in this study (as a method of their own, not as a simulator). */
  let scoreSets: string[] = [];
  let runs: Run[] = [];
  const metrics = new Map<string, Metrics | string>();
  const lds = new Map<string, Lds>();

  async function loadStudies(): Promise<void> {
    put(messages);
    await guarded(messages, async () => {
      const studies = await listStudies();
      const previous = studyPicker.value;
      put(studyPicker, studies.map((s) => el("option", { value: s.name }, s.name)));
      if (studies.some((s) => s.name === previous)) studyPicker.value = previous;
      if (studies.length === 0) {
        put(formArea, note("No studies yet: upload runs first."));
        put(tableArea);
      } else await loadStudy(studyPicker.value);
    });
  }

  let ticket = 0;
  async function loadStudy(study: string): Promise<void> {
    const mine = ++ticket;
    put(jobsArea);
    metrics.clear();
    lds.clear();
    await guarded(messages, async () => {
      const [r, s, kept] = await Promise.all([
        runsOf(study),
        listSimulatorsOf(study),
        keptLds(study),
      ]);
      if (mine !== ticket) return;
      runs = r;
      simulators = s.filter((x) => x.status === "ready");
      // The newest ready one per method.
      const ready = kept.filter((k) => k.status === "ready")
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      for (const record of ready) {
        const id = record.method.simulator ?? record.method.scores;
        if (id) lds.set(id, asLds(record, "kept"));
      }
      scoreSets = [...new Set(ready.flatMap((k) => k.method.scores ?? []))];
      renderForm();
      renderTable();
    });
  }

  function listSimulatorsOf(study: string): Promise<Simulator[]> {
    return listAll<Simulator>(`/v1/simulators?study=${enc(study)}`, "simulators");
  }

  let heldOutPicker = el("select");
  function renderForm(): void {
    // Default: the runs no simulator of the study was fitted or validated on.
    const used = new Set(simulators.flatMap((s) => [...fittingRunsOf(s)]));
    heldOutPicker = select(
      runs.map((r) => ({ value: r.id, label: `${r.name} (${r.steps} steps)` })),
      { multiple: true, size: Math.min(8, Math.max(3, runs.length)), name: "compare-runs" },
      runs.filter((r) => !used.has(r.id)).map((r) => r.id),
    );
    put(
      formArea,
      el(
        "form",
        {
          class: "row",
          "aria-label": "compare methods",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void evaluateAll();
          },
        },
        field(
          "Held-out runs",
          heldOutPicker,
          "each method is measured on those it was not fitted on; the LDS needs at least " +
            `${MIN_LDS_RUNS}`,
        ),
        el(
          "div",
          { class: "field buttons" },
          el("button", { type: "submit", name: "compare" }, "Held-out metrics"),
          el("button", {
            type: "button",
            class: "secondary",
            name: "compute-lds",
            onclick: () => void computeLds(),
          }, "Compute LDS"),
        ),
      ),
    );
  }

  function renderTable(): void {
    if (simulators.length === 0 && scoreSets.length === 0) {
      put(
        tableArea,
        note("No ready simulators in this study: fit one, or turn a score set into one."),
      );
      return;
    }
    const cell = (id: string, pick: (m: Metrics) => string) => {
      const m = metrics.get(id);
      return m === undefined ? "–" : typeof m === "string" ? m : pick(m);
    };
    const rows = simulators.map((s) => [
      el("span", {}, KIND_NAMES[s.kind] ?? s.kind, " ", el("code", {}, s.id.slice(0, 8))),
      fittingRunsOf(s).size,
      cell(s.id, (m) => String(m.count)),
      cell(s.id, (m) => fmt(m.allStepsMse)),
      cell(s.id, (m) => fmt(m.allStepsMae)),
      cell(s.id, (m) => fmt(m.finalStepMse)),
      cell(s.id, (m) => fmt(m.finalStepSpearman, 3)),
      ldsText(lds.get(s.id)),
      lds.get(s.id)?.runs ?? "–",
    ]);
    // A score set's held-out trajectories need a simulator; its LDS stands on its own.
    for (const id of scoreSets) {
      rows.push([
        el("span", {}, "score set ", el("code", {}, id.slice(0, 8))),
        "–",
        "–",
        "–",
        "–",
        "–",
        "–",
        ldsText(lds.get(id)),
        lds.get(id)?.runs ?? "–",
      ]);
    }
    const methods = table(
      [
        "method",
        "fitting runs",
        "held-out points",
        "all-steps MSE (nats²)",
        "all-steps MAE (nats)",
        "final-step MSE (nats²)",
        "final-step Spearman",
        "LDS [95 % CI]",
        "LDS runs",
      ],
      rows,
      { class: "methods" },
    );
    methods.querySelectorAll("tbody tr").forEach((tr, i) => {
      (tr as HTMLElement).dataset.method = simulators[i]?.id ?? scoreSets[i - simulators.length];
    });
    put(tableArea, methods);
  }

  async function evaluateAll(): Promise<void> {
    put(messages);
    const chosen = selectedValues(heldOutPicker);
    if (chosen.length === 0) {
      put(messages, note("Choose at least one held-out run.", "warn"));
      return;
    }
    await Promise.all(simulators.map(async (s) => {
      const used = fittingRunsOf(s);
      const heldOut = chosen.filter((id) => !used.has(id));
      if (heldOut.length === 0) {
        metrics.set(s.id, "fitted on every chosen run");
        return;
      }
      try {
        const result = await getJson<{ pooled: Metrics }>(`/v1/simulators/${enc(s.id)}/evaluate`, {
          json: { runs: heldOut },
        });
        metrics.set(s.id, result.pooled);
      } catch (e) {
        metrics.set(s.id, e instanceof Error ? e.message : String(e));
      }
    }));
    renderTable();
    tableArea.dataset.metrics = "true";
  }

  async function computeLds(): Promise<void> {
    put(messages);
    put(jobsArea);
    const chosen = selectedValues(heldOutPicker);
    if (chosen.length < MIN_LDS_RUNS) {
      put(messages, note(`The LDS needs at least ${MIN_LDS_RUNS} runs.`, "warn"));
      return;
    }
    // One job at a time: the service runs jobs one after another anyway.
    for (const s of simulators) {
      await guarded(jobsArea, async () => {
        const started = await getJson<{ job: string; evaluation: { id: string } }>(
          "/v1/evaluations/lds",
          { json: { study: s.study, runs: chosen, method: { simulator: s.id } } },
        );
        const view = new JobView(started.job, `LDS of ${KIND_NAMES[s.kind] ?? s.kind}`);
        jobsArea.append(view.root);
        const job = await view.follow();
        if (job.status === "succeeded") {
          const record = await getJson<LdsRecord>(
            `/v1/evaluations/${enc(started.evaluation.id)}`,
          );
          lds.set(s.id, asLds(record, "computed"));
          renderTable();
        }
      });
    }
    tableArea.dataset.lds = "true";
  }

  studyPicker.addEventListener("change", () => void loadStudy(studyPicker.value));
  const root = el(
    "div",
    { class: "view", id: "view-compare" },
    el(
      "div",
      { class: "row" },
      field("Study", studyPicker),
      el("button", {
        type: "button",
        class: "secondary",
        name: "refresh-compare",
        onclick: () => void loadStudies(),
      }, "Refresh"),
    ),
    messages,
    formArea,
    tableArea,
    jobsArea,
  );
  return { root, refresh: loadStudies };
}
