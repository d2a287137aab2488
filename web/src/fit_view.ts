// View 2: fit a simulator (kind, fitting / validation / held-out runs, λ) with the job's progress
// live, then the evaluation table and observed-against-simulated curves for a held-out run.
import {
  enc,
  getJson,
  listSimulators,
  listStudies,
  type Run,
  runsOf,
  type Simulator,
  trajectories,
} from "./api.ts";
import { LineChart } from "./chart.ts";
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

interface Evaluation {
  runs: (Metrics & { run: string; name: string; steps: number })[];
  pooled: Metrics & { meanRunSpearman: number | null };
}

export function fitView(): View {
  const studyPicker = el("select", { name: "fit-study" });
  const formArea = el("div");
  const jobArea = el("div");
  const resultArea = el("div");
  const existingArea = el("div");

  async function loadStudies(): Promise<void> {
    await guarded(formArea, async () => {
      const studies = await listStudies();
      const previous = studyPicker.value;
      put(studyPicker, studies.map((s) => el("option", { value: s.name }, s.name)));
      if (studies.some((s) => s.name === previous)) studyPicker.value = previous;
      if (studies.length === 0) put(formArea, note("No studies yet: upload runs first."));
      else await loadForm(studyPicker.value);
    });
  }

  let formTicket = 0;
  async function loadForm(study: string): Promise<void> {
    const ticket = ++formTicket;
    await guarded(formArea, async () => {
      const runs = await runsOf(study);
      if (ticket !== formTicket) return; // another study was chosen meanwhile
      renderForm(study, runs);
      await renderExisting(study, runs);
    });
  }

  function renderForm(study: string, runs: Run[]): void {
    const options = runs.map((r) => ({ value: r.id, label: `${r.name} (${r.steps} steps)` }));
    // Default split: the last run held out, the one before it for validation, the rest fitted.
    const n = runs.length;
    const ids = runs.map((r) => r.id);
    const size = Math.min(8, Math.max(3, n));
    const trainPicker = select(
      options,
      { multiple: true, size, name: "train-runs" },
      ids.slice(0, Math.max(1, n - 2)),
    );
    const validationPicker = select(
      options,
      { multiple: true, size, name: "validation-runs" },
      n >= 3 ? [ids[n - 2]] : [],
    );
    const heldOutPicker = select(
      options,
      { multiple: true, size, name: "held-out-runs" },
      n >= 2 ? [ids[n - 1]] : [],
    );
    const kind = select([
      { value: "linear", label: "Simfluence-Linear" },
      { value: "additive", label: "Additive (TracIn-like)" },
      { value: "multiplicative", label: "Multiplicative" },
    ], { name: "kind" });
    const lambda = el("input", { type: "text", name: "lambda", value: "auto", size: 8 });
    const problems = el("div");
    const form = el(
      "form",
      {
        class: "fit-form",
        "data-study": study,
        "aria-label": "fit a simulator",
        onsubmit: (e: Event) => {
          e.preventDefault();
          put(problems);
          const text = lambda.value.trim();
          const value = text === "" || text === "auto" ? "auto" : Number(text);
          if (value !== "auto" && !(Number.isFinite(value) && value >= 0)) {
            put(problems, note("λ must be “auto” or a number ≥ 0.", "warn"));
            return;
          }
          void fit(study, runs, {
            kind: kind.value,
            trainRuns: selectedValues(trainPicker),
            validationRuns: selectedValues(validationPicker),
            lambda: value,
          }, selectedValues(heldOutPicker));
        },
      },
      el(
        "div",
        { class: "row" },
        field("Simulator kind", kind),
        field("λ (ridge factor)", lambda, "“auto” picks it on the validation runs"),
      ),
      el(
        "div",
        { class: "row" },
        field("Fitting runs", trainPicker),
        field("Validation runs", validationPicker),
        field("Held-out runs (evaluation)", heldOutPicker),
      ),
      el("button", { type: "submit", name: "fit" }, "Fit"),
      problems,
    );
    put(formArea, form);
  }

  async function renderExisting(study: string, runs: Run[]): Promise<void> {
    const simulators = await listSimulators(study);
    if (simulators.length === 0) {
      put(existingArea);
      return;
    }
    put(
      existingArea,
      el("h3", {}, "Simulators of this study"),
      table(
        ["id", "kind", "status", "λ", "fitting runs", ""],
        simulators.map((s) => [
          el("code", {}, s.id.slice(0, 8)),
          s.kind,
          s.status + (s.error ? `: ${s.error}` : ""),
          s.lambdaFactor !== null
            ? `${fmt(s.lambdaFactor)}${s.lambda === "auto" ? " (auto)" : ""}`
            : String(s.lambda ?? "–"),
          s.trainRuns.length,
          s.status === "ready"
            ? el("button", {
              type: "button",
              class: "secondary",
              onclick: () => void showResults(s, runs, pickHeldOut(s, runs)),
            }, "Evaluate")
            : "",
        ]),
      ),
    );
  }

  function pickHeldOut(s: Simulator, runs: Run[]): string[] {
    const used = new Set([...s.trainRuns, ...s.validationRuns]);
    return runs.filter((r) => !used.has(r.id)).map((r) => r.id);
  }

  async function fit(
    study: string,
    runs: Run[],
    body: { kind: string; trainRuns: string[]; validationRuns: string[]; lambda: number | "auto" },
    heldOut: string[],
  ): Promise<void> {
    put(jobArea);
    put(resultArea);
    await guarded(jobArea, async () => {
      const started = await getJson<{ simulator: Simulator; job: string }>("/v1/simulators", {
        json: { study, ...body },
      });
      const view = new JobView(started.job, `Fitting ${body.kind} simulator`);
      put(jobArea, view.root);
      const job = await view.follow();
      await renderExisting(study, runs);
      if (job.status !== "succeeded") return;
      const simulator = await getJson<Simulator>(`/v1/simulators/${enc(started.simulator.id)}`);
      await showResults(simulator, runs, heldOut);
    });
  }

  async function showResults(simulator: Simulator, runs: Run[], heldOut: string[]): Promise<void> {
    put(resultArea);
    if (heldOut.length === 0) {
      put(resultArea, note("No held-out runs: choose some to evaluate the simulator on.", "warn"));
      return;
    }
    await guarded(resultArea, async () => {
      const evaluation = await getJson<Evaluation>(
        `/v1/simulators/${enc(simulator.id)}/evaluate`,
        { json: { runs: heldOut } },
      );
      const row = (label: string, m: Metrics) => [
        label,
        fmt(m.allStepsMse),
        fmt(m.allStepsMae),
        fmt(m.finalStepMse),
        fmt(m.finalStepSpearman, 3),
        m.count,
      ];
      put(
        resultArea,
        el(
          "h3",
          {},
          `Evaluation of ${simulator.kind} simulator `,
          el("code", {}, simulator.id.slice(0, 8)),
        ),
        table(
          [
            "held-out run",
            "all-steps MSE (nats²)",
            "all-steps MAE (nats)",
            "final-step MSE (nats²)",
            "final-step Spearman",
            "count",
          ],
          [
            ...evaluation.runs.map((r) => row(r.name, r)),
            row("pooled", evaluation.pooled),
          ],
          { class: "evaluation" },
        ),
        compareCurves(simulator, runs.filter((r) => heldOut.includes(r.id))),
      );
    });
  }

  /** Observed against simulated losses for one held-out run and one test example. */
  function compareCurves(simulator: Simulator, heldOut: Run[]): HTMLElement {
    const runPicker = select(heldOut.map((r) => ({ value: r.id, label: r.name })), {
      name: "compare-run",
    });
    const testPicker = el("select", { name: "compare-test" });
    const chart = new LineChart({ title: "Observed against simulated", height: 240 });
    const messages = el("div");
    const loadTests = async () => {
      await guarded(messages, async () => {
        const t = await trajectories(runPicker.value);
        put(testPicker, Object.keys(t.trajectories).map((k) => el("option", { value: k }, k)));
        await draw();
      });
    };
    const draw = async () => {
      put(messages);
      await guarded(messages, async () => {
        const test = testPicker.value;
        const observed = (await trajectories(runPicker.value, [test])).trajectories[test];
        const simulated = await getJson<{ trajectories: Record<string, number[]> }>(
          `/v1/simulators/${enc(simulator.id)}/simulate`,
          {
            json: {
              fromRun: runPicker.value,
              tests: [test],
              initialLosses: { [test]: observed[0] },
            },
          },
        );
        chart.set([
          { label: `observed ${test}`, values: observed },
          { label: `simulated ${test}`, values: simulated.trajectories[test], dash: true },
        ]);
      });
    };
    runPicker.addEventListener("change", () => void loadTests());
    testPicker.addEventListener("change", () => void draw());
    void loadTests();
    return el(
      "div",
      { class: "compare" },
      el(
        "div",
        { class: "row" },
        field("Held-out run", runPicker),
        field("Test example", testPicker),
      ),
      chart.root,
      messages,
    );
  }

  studyPicker.addEventListener("change", () => void loadForm(studyPicker.value));
  const root = el(
    "div",
    { class: "view", id: "view-fit" },
    el(
      "div",
      { class: "row" },
      field("Study", studyPicker),
      el("button", {
        type: "button",
        class: "secondary",
        onclick: () => void loadStudies(),
      }, "Refresh"),
    ),
    formArea,
    jobArea,
    resultArea,
    existingArea,
  );
  return { root, refresh: loadStudies };
}
