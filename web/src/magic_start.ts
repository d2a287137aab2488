// The attribution tab's MAGIC form: exact metagradients of a run recorded here (POST
// /v1/influence/metagradients). Pick a study and one of its recorded runs, the queries (the
// study's test examples from a dataset, or a text typed in), the checkpointing; the job is
// followed live (phase forward / replay / reverse, step of T, ETA, Cancel) and its score set is
// handed to the tab when it is ready. A refusal (409 run_not_replayable, 503 without a GPU) shows
// the server's message inside the form.
import { getJson, type Run, runsOf, type Study } from "./api.ts";
import { el, field, guarded, note, put, select, selectedValues } from "./dom.ts";
import { JobView } from "./job_progress.ts";

interface Named {
  id: string;
  name: string | null;
}

export function magicForm(
  studies: Study[],
  datasets: Named[],
  onScoreSet: (id: string) => Promise<void>,
): HTMLElement {
  const withTests = studies.filter((s) => s.runs > 0);
  if (withTests.length === 0) {
    return el(
      "section",
      { class: "start-form magic" },
      el("h4", {}, "MAGIC (exact metagradients)"),
      note("No runs yet: record one with AdamW (Models and recording)."),
    );
  }
  const study = select(withTests.map((s) => ({ value: s.name, label: s.name })), {
    name: "magic-study",
  });
  const runPicker = el("select", { name: "magic-run" });
  const uploaded = el("input", { type: "checkbox", name: "magic-uploaded", id: "magic-uploaded" });
  const source = select([
    { value: "tests", label: "the study's test examples" },
    { value: "text", label: "a text" },
  ], { name: "magic-query-source" });
  const dataset = select(datasets.map((d) => ({ value: d.id, label: d.name ?? d.id })), {
    name: "magic-dataset",
  });
  const tests = el("select", { name: "magic-tests", multiple: true, size: 4 });
  const text = el("textarea", { name: "magic-text", rows: 2, cols: 28 });
  const checkpointing = select([
    { value: "sqrt", label: "√T states (default)" },
    { value: "log", label: "log T states" },
    { value: "all", label: "every state" },
  ], { name: "magic-checkpointing" });
  const testFields = el(
    "div",
    {},
    field("Queries' dataset", dataset, "the one the run was recorded from"),
    field("Test examples", tests, "each query is one reverse pass"),
  );
  const textFields = el("div", { hidden: true }, field("Query text", text));
  const jobArea = el("div", { class: "magic-job" });
  let runs: Run[] = [];
  let ticket = 0;

  const runOf = () => runs.find((r) => r.id === runPicker.value);

  /** The study's runs (recorded ones, or every one when asked) and its test examples. */
  async function loadRuns(): Promise<void> {
    put(jobArea);
    const mine = ++ticket;
    await guarded(jobArea, async () => {
      const listed = await runsOf(study.value);
      if (mine !== ticket) return; // a later choice replaced this one
      runs = listed;
      const shown = runs.filter((r) => uploaded.checked || r.source === "training");
      put(
        runPicker,
        shown.map((r) =>
          el(
            "option",
            { value: r.id },
            `${r.name} · ${r.steps} steps` + (r.source === "training" ? "" : ` (${r.source})`),
          )
        ),
      );
      const about = withTests.find((s) => s.name === study.value);
      put(
        tests,
        (about?.testExamples ?? []).map((id, i) =>
          el("option", { value: id, selected: i === 0 }, id)
        ),
      );
      pickDataset();
    });
  }

  function pickDataset(): void {
    const run = runOf();
    if (!run?.dataset) return;
    const recorded = run.dataset;
    const match = datasets.find((d) => d.id === recorded || d.name === recorded);
    if (match) dataset.value = match.id;
  }

  async function start(): Promise<void> {
    put(jobArea);
    await guarded(jobArea, async () => {
      if (!runPicker.value) throw new Error("choose a run (record one with AdamW first)");
      const queries = source.value === "text"
        ? { examples: [{ id: "query", text: text.value }] }
        : { dataset: dataset.value, ids: selectedValues(tests) };
      const started = await getJson<{ scores: { id: string }; job: string }>(
        "/v1/influence/metagradients",
        { json: { run: runPicker.value, queries, checkpointing: checkpointing.value } },
      );
      const view = new JobView(started.job, "MAGIC");
      put(jobArea, view.root);
      const job = await view.follow();
      if (job.status === "succeeded") await onScoreSet(started.scores.id);
    });
  }

  study.addEventListener("change", () => void loadRuns());
  uploaded.addEventListener("change", () => void loadRuns());
  runPicker.addEventListener("change", pickDataset);
  source.addEventListener("change", () => {
    testFields.hidden = source.value !== "tests";
    textFields.hidden = source.value !== "text";
  });
  void loadRuns();
  return el(
    "form",
    {
      class: "start-form magic",
      "aria-label": "start MAGIC",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void start();
      },
    },
    el("h4", {}, "MAGIC (exact metagradients of a recorded run)"),
    field("Study", study),
    field("Run", runPicker, "recorded here with AdamW"),
    el(
      "div",
      { class: "field check" },
      uploaded,
      el("label", { for: uploaded.id }, "list uploaded runs too (they cannot be replayed)"),
    ),
    field("Queries", source),
    testFields,
    textFields,
    field("Checkpointing", checkpointing, "which training states the reverse pass keeps"),
    el("button", { type: "submit", name: "start-magic" }, "Start MAGIC"),
    jobArea,
  );
}
