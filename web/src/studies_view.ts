// View 1: studies and their runs, observed loss curves of chosen test examples across chosen runs,
// and run upload by drag-and-drop (JSON, NDJSON, or GPTfluence's two files).
import { getJson, listStudies, type Run, runsOf, type Study, trajectories } from "./api.ts";
import { LineChart, type SeriesSpec } from "./chart.ts";
import type { View } from "./view.ts";
import { el, errorBox, field, guarded, note, put, select, selectedValues, table } from "./dom.ts";

const GPTFLUENCE_FILES = ["train_samples_id.json", "all_loss_trajectory.out"];

export function studiesView(): View {
  const studyList = el("ul", { class: "study-list", "aria-label": "studies" });
  const runsArea = el("div", { class: "runs" });
  const uploadLog = el("div", { class: "upload-log", "aria-live": "polite" });
  const chart = new LineChart({ title: "Observed test losses" });
  const chartMessages = el("div");
  let currentStudy: string | null = null;

  async function loadStudies(): Promise<void> {
    put(studyList);
    await guarded(studyList, async () => {
      const studies = await listStudies();
      if (studies.length === 0) {
        put(studyList, el("li", {}, "No studies yet: upload a run below."));
        return;
      }
      put(
        studyList,
        studies.map((s) =>
          el(
            "li",
            {},
            el("button", {
              type: "button",
              class: s.name === currentStudy ? "link current" : "link",
              "data-study": s.name,
              onclick: () => void openStudy(s.name),
            }, s.name),
            ` ${s.runs} run${s.runs === 1 ? "" : "s"}, ${s.testExamples.length} test examples, ` +
              `${s.simulators} simulator${s.simulators === 1 ? "" : "s"}`,
          )
        ),
      );
    });
  }

  let opening = 0;
  async function openStudy(study: string): Promise<void> {
    currentStudy = study;
    const ticket = ++opening;
    for (const b of studyList.querySelectorAll("button")) {
      b.classList.toggle("current", b.dataset.study === study);
    }
    put(runsArea, note(`loading ${study}…`));
    await guarded(runsArea, async () => {
      const [runs, about] = await Promise.all([
        runsOf(study),
        getJson<Study>(`/v1/studies/${encodeURIComponent(study)}`),
      ]);
      const tests = about.testExamples;
      // A later click superseded this one while it loaded.
      if (ticket === opening) renderRuns(study, runs, tests);
    });
  }

  function renderRuns(study: string, runs: Run[], tests: string[]): void {
    const runPicker = select(
      runs.map((r) => ({ value: r.id, label: r.name })),
      { multiple: true, size: Math.min(8, Math.max(2, runs.length)), name: "plot-runs" },
      runs.slice(0, 3).map((r) => r.id),
    );
    const testPicker = select(
      tests.map((t) => ({ value: t, label: t })),
      { multiple: true, size: Math.min(8, Math.max(2, tests.length)), name: "plot-tests" },
      tests.slice(0, 4),
    );
    const setAll = (picker: HTMLSelectElement, on: boolean) => {
      for (const o of picker.options) o.selected = on;
    };
    put(
      runsArea,
      el("h3", {}, `Runs of ${study}`),
      table(
        ["name", "id", "source", "steps", "test examples", "training examples", "uploaded"],
        runs.map((r) => [
          r.name,
          el("code", {}, r.id.slice(0, 8)),
          r.source === "training" ? "recorded" : `uploaded (${r.source})`,
          r.steps,
          r.testExamples,
          r.distinctTrainExamples,
          new Date(r.createdAt).toLocaleString(),
        ]),
        { class: "runs-table" },
      ),
      el(
        "form",
        {
          class: "row",
          "aria-label": "plot observed losses",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void plot(selectedValues(runPicker), selectedValues(testPicker), runs);
          },
        },
        field("Runs", runPicker),
        field("Test examples", testPicker, `${tests.length} in this study`),
        el(
          "div",
          { class: "field buttons" },
          el("button", {
            type: "button",
            class: "secondary",
            name: "all-tests",
            onclick: () => setAll(testPicker, true),
          }, "All test examples"),
          el("button", {
            type: "button",
            class: "secondary",
            onclick: () => setAll(runPicker, true),
          }, "All runs"),
          el("button", { type: "submit", name: "plot" }, "Plot"),
        ),
      ),
    );
  }

  async function plot(runIds: string[], tests: string[], runs: Run[]): Promise<void> {
    put(chartMessages);
    if (runIds.length === 0 || tests.length === 0) {
      put(chartMessages, note("Choose at least one run and one test example.", "warn"));
      return;
    }
    await guarded(chartMessages, async () => {
      const names = new Map(runs.map((r) => [r.id, r.name]));
      const fetched = await Promise.all(runIds.map((id) => trajectories(id, tests)));
      const series: SeriesSpec[] = [];
      for (const t of fetched) {
        for (const test of tests) {
          series.push({
            label: runIds.length > 1 ? `${names.get(t.run)} · ${test}` : test,
            values: t.trajectories[test],
          });
        }
      }
      chart.set(series);
      put(
        chartMessages,
        note(`${series.length} curves × ${Math.max(...fetched.map((f) => f.steps)) + 1} points`),
      );
    });
  }

  // Upload: one request per dropped file; GPTfluence's two files go together as one run.
  const studyInput = el("input", { type: "text", name: "import-study", placeholder: "s1" });
  const nameInput = el("input", { type: "text", name: "import-name", placeholder: "run-1" });
  const fileInput = el("input", {
    type: "file",
    multiple: true,
    name: "run-files",
    accept: ".json,.ndjson,.jsonl,.out",
  });

  async function upload(files: File[]): Promise<void> {
    const byName = new Map(files.map((f) => [f.name, f]));
    const pair = GPTFLUENCE_FILES.every((n) => byName.has(n));
    const singles = pair ? files.filter((f) => !GPTFLUENCE_FILES.includes(f.name)) : files;
    const jobs: Promise<void>[] = singles.map((file) =>
      uploadOne(file.name, () => uploadFile(file))
    );
    if (pair) {
      jobs.push(uploadOne(GPTFLUENCE_FILES.join(" + "), () => {
        const form = new FormData();
        form.set("study", studyInput.value.trim());
        form.set("name", nameInput.value.trim());
        for (const n of GPTFLUENCE_FILES) form.set(n, byName.get(n)!, n);
        return getJson<Run>("/v1/runs/import", { body: form });
      }));
    }
    await Promise.all(jobs);
    await loadStudies();
    if (currentStudy) await openStudy(currentStudy);
  }

  async function uploadOne(label: string, send: () => Promise<Run>): Promise<void> {
    const line = el("div", { class: "upload-line" }, note(`${label}: uploading…`));
    uploadLog.prepend(line);
    try {
      const run = await send();
      put(
        line,
        note(`${label}: stored run ${run.name} in ${run.study} (${run.steps} steps)`, "ok"),
      );
      line.dataset.result = "ok";
      currentStudy ??= run.study;
    } catch (e) {
      put(line, el("strong", {}, label), errorBox(e));
      line.dataset.result = "error";
    }
  }

  function uploadFile(file: File): Promise<Run> {
    const ndjson = /\.(ndjson|jsonl)$/i.test(file.name);
    return getJson<Run>("/v1/runs", {
      body: file,
      contentType: ndjson ? "application/x-ndjson" : "application/json",
    });
  }

  fileInput.addEventListener("change", () => {
    const files = [...(fileInput.files ?? [])];
    fileInput.value = "";
    if (files.length > 0) void upload(files);
  });
  const dropZone = el(
    "div",
    { class: "drop-zone", "aria-label": "drop run files here" },
    el("p", {}, "Drop run files here (JSON, NDJSON, or GPTfluence's two files), or choose them:"),
    field("Run files", fileInput),
    el(
      "div",
      { class: "row" },
      field("Study (GPTfluence pair only)", studyInput),
      field("Run name (GPTfluence pair only)", nameInput),
    ),
  );
  dropZone.addEventListener("dragover", (e) => {
    e.preventDefault();
    dropZone.classList.add("over");
  });
  dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
  dropZone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropZone.classList.remove("over");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) void upload(files);
  });

  const root = el(
    "div",
    { class: "view", id: "view-studies" },
    el(
      "div",
      { class: "columns" },
      el(
        "section",
        { class: "side" },
        el("h3", {}, "Studies"),
        el("button", {
          type: "button",
          class: "secondary",
          onclick: () => void loadStudies(),
        }, "Refresh"),
        studyList,
      ),
      el("section", { class: "main" }, runsArea, chart.root, chartMessages),
    ),
    el("section", {}, el("h3", {}, "Upload runs"), dropZone, uploadLog),
  );
  return { root, refresh: loadStudies };
}
