// The Optimise tab's form: the study, the objective's test examples (or all), the budget (a subset
// size or a drop fraction), order kept or optimised, the method (a ready simulator of the study, a
// score set, or metagradient descent on a run recorded here with its iterations), seed and
// verification runs; it sends POST /v1/curricula/optimize and hands the kept optimisation and its
// job to the tab. A refusal (400 naming the field, 409, 503 without a GPU) shows under the form.
import {
  getJson,
  listAll,
  listSimulators,
  listStudies,
  type Run,
  runsOf,
  type Study,
} from "./api.ts";
import { el, field, guarded, note, put, select, selectedValues } from "./dom.ts";
import type { OptimizationSummary } from "./optimization.ts";

interface ScoreSet {
  id: string;
  method: string;
  status: string;
  settings: { mode: string } | null;
  queries: { count: number };
  train: { count: number };
}

export interface OptimizeForm {
  root: HTMLElement;
  /** The study whose kept optimisations the tab lists. */
  study(): string;
  /** Reloads the studies (keeping the choice) and the chosen study's methods. */
  refresh(): Promise<void>;
}

const optionalNumber = (input: HTMLInputElement): number | undefined =>
  input.value.trim() === "" ? undefined : Number(input.value);

export function optimizeForm(
  onStarted: (optimization: OptimizationSummary, job: string) => void,
  onStudy: () => void,
): OptimizeForm {
  const study = el("select", { name: "optimize-study" });
  const allTests = el("input", { type: "checkbox", name: "optimize-all-tests", id: "opt-all" });
  const tests = el("select", { name: "optimize-tests", multiple: true, size: 5 });
  const at = select([
    { value: "final", label: "final loss" },
    { value: "mean", label: "mean loss over steps (simulator)" },
  ], { name: "optimize-at" });
  const budgetKind = select([
    { value: "dropFraction", label: "drop a fraction" },
    { value: "subsetSize", label: "keep k examples" },
  ], { name: "optimize-budget-kind" });
  const budget = el("input", {
    type: "number",
    name: "optimize-budget",
    value: "0.5",
    step: "any",
    min: "0",
    required: true,
  });
  const order = select([
    { value: "keep", label: "keep the order" },
    { value: "optimize", label: "optimise the order too (simulator)" },
  ], { name: "optimize-order" });
  const method = select([
    { value: "simulator", label: "simulator search" },
    { value: "scores", label: "score set (drop the most harmful)" },
    { value: "metagradient", label: "metagradient descent" },
  ], { name: "optimize-method" });
  const simulator = el("select", { name: "optimize-simulator" });
  const scoreSet = el("select", { name: "optimize-scores" });
  const run = el("select", { name: "optimize-run" });
  const iterations = el("input", {
    type: "number",
    name: "optimize-iterations",
    value: "3",
    min: "1",
    max: "100",
  });
  const restarts = el("input", { type: "number", name: "optimize-restarts", min: "1" });
  const rounds = el("input", { type: "number", name: "optimize-rounds", min: "1" });
  const candidates = el("input", { type: "number", name: "optimize-candidates", min: "1" });
  const stepEffect = select([
    { value: "", label: "summed (Simfluence, default)" },
    { value: "mean", label: "scaled to a mean" },
  ], { name: "optimize-step-effect" });
  const baseRun = el("select", { name: "optimize-base-run" });
  const seed = el("input", { type: "number", name: "optimize-seed", value: "0", min: "0" });
  const verify = el("input", { type: "number", name: "optimize-verify", min: "0", max: "64" });
  const problems = el("div", { class: "optimize-problems" });

  const simulatorFields = el(
    "div",
    {},
    field("Simulator", simulator, "a ready simulator of the study"),
    el(
      "div",
      { class: "row" },
      field("Restarts", restarts, "default 4"),
      field("Rounds", rounds, "per restart, default 150"),
      field("Candidates", candidates, "per round, default 64"),
      field("Step effect", stepEffect, "how a step's examples' effects combine"),
    ),
  );
  const scoresFields = el(
    "div",
    { hidden: true },
    field("Score set", scoreSet, "covering the tests and the curriculum's examples"),
  );
  const metagradientFields = el(
    "div",
    { hidden: true },
    field("Run", run, "recorded here with AdamW"),
    field("Iterations", iterations, "each one replays and reverses the run"),
  );
  let studies: Study[] = [];
  let runs: Run[] = [];
  let ticket = 0;

  function showMethod(): void {
    simulatorFields.hidden = method.value !== "simulator";
    scoresFields.hidden = method.value !== "scores";
    metagradientFields.hidden = method.value !== "metagradient";
  }

  /** The chosen study's test examples, simulators and runs; the score sets (any study). */
  async function loadStudy(): Promise<void> {
    put(problems);
    const mine = ++ticket;
    const name = study.value;
    await guarded(problems, async () => {
      if (!name) return;
      const [listedRuns, simulators, sets] = await Promise.all([
        runsOf(name),
        listSimulators(name),
        listAll<ScoreSet>("/v1/influence/scores", "scores"),
      ]);
      if (mine !== ticket) return; // a later choice replaced this one
      runs = listedRuns;
      const about = studies.find((s) => s.name === name);
      put(
        tests,
        (about?.testExamples ?? []).map((id, i) =>
          el("option", { value: id, selected: i === 0 }, id)
        ),
      );
      const ready = simulators.filter((s) => s.status === "ready");
      put(
        simulator,
        ready.length === 0
          ? el("option", { value: "" }, "none ready: fit one first")
          : ready.map((s) =>
            el("option", { value: s.id }, `${s.kind} · ${s.id.slice(0, 8)} · ${s.createdAt}`)
          ),
      );
      const pairwise = sets.filter((s) =>
        s.status === "ready" && (s.settings?.mode ?? "pairwise") === "pairwise"
      );
      put(
        scoreSet,
        pairwise.map((s) =>
          el(
            "option",
            { value: s.id },
            `${s.id.slice(0, 8)} · ${s.method} · ${s.queries.count} × ${s.train.count}`,
          )
        ),
      );
      const replayable = runs.filter((r) => r.replayable);
      put(
        run,
        replayable.map((r) => el("option", { value: r.id }, `${r.name} · ${r.steps} steps`)),
      );
      put(
        baseRun,
        el("option", { value: "" }, "the service's choice (oldest recorded run)"),
        runs.map((r) =>
          el("option", { value: r.id }, `${r.name} · ${r.steps} steps · ${r.source}`)
        ),
      );
    });
  }

  function request(): Record<string, unknown> {
    const chosenTests = allTests.checked ? "all" : selectedValues(tests);
    if (chosenTests !== "all" && chosenTests.length === 0) {
      throw new Error("choose at least one test example (or all)");
    }
    const value = Number(budget.value);
    let chosenMethod: Record<string, unknown>;
    if (method.value === "simulator") {
      if (!simulator.value) throw new Error("choose a ready simulator (fit one first)");
      chosenMethod = { simulator: simulator.value };
    } else if (method.value === "scores") {
      if (!scoreSet.value) throw new Error("choose a ready pairwise score set");
      chosenMethod = { scores: scoreSet.value };
    } else {
      if (!run.value) throw new Error("choose a run recorded here with AdamW");
      chosenMethod = { metagradient: { run: run.value, iterations: Number(iterations.value) } };
    }
    const search = {
      restarts: optionalNumber(restarts),
      rounds: optionalNumber(rounds),
      candidates: optionalNumber(candidates),
      stepEffect: stepEffect.value === "" ? undefined : stepEffect.value,
    };
    const verifyRuns = optionalNumber(verify) ?? 0;
    return {
      study: study.value,
      objective: { tests: chosenTests, at: at.value },
      budget: budgetKind.value === "subsetSize" ? { subsetSize: value } : { dropFraction: value },
      order: order.value,
      method: chosenMethod,
      seed: optionalNumber(seed) ?? 0,
      ...(baseRun.value ? { baseRun: baseRun.value } : {}),
      ...(verifyRuns > 0 ? { verify: { runs: verifyRuns } } : {}),
      ...(method.value === "simulator" && Object.values(search).some((v) => v !== undefined)
        ? { search }
        : {}),
    };
  }

  async function start(): Promise<void> {
    put(problems);
    await guarded(problems, async () => {
      const started = await getJson<{ optimization: OptimizationSummary; job: string }>(
        "/v1/curricula/optimize",
        { json: request() },
      );
      onStarted(started.optimization, started.job);
    });
  }

  study.addEventListener("change", () => {
    onStudy();
    void loadStudy();
  });
  method.addEventListener("change", showMethod);
  allTests.addEventListener("change", () => (tests.disabled = allTests.checked));
  budgetKind.addEventListener("change", () => {
    budget.value = budgetKind.value === "subsetSize" ? "" : "0.5";
    budget.step = budgetKind.value === "subsetSize" ? "1" : "any";
  });

  const root = el(
    "form",
    {
      class: "start-form optimize-form",
      "aria-label": "optimise a curriculum",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void start();
      },
    },
    el("h3", {}, "Optimise the training data for chosen test examples"),
    el(
      "div",
      { class: "row" },
      field("Study", study),
      el(
        "div",
        {},
        field("Test examples", tests, "the objective: their weighted mean loss"),
        el(
          "div",
          { class: "field check" },
          allTests,
          el("label", { for: allTests.id }, "all test examples"),
        ),
      ),
      field("Objective", at),
    ),
    el(
      "div",
      { class: "row" },
      field("Budget", budgetKind),
      field("Value", budget, "a fraction in (0, 1), or a count"),
      field("Order", order),
      field("Base run", baseRun, "the study's own curriculum"),
    ),
    el("div", { class: "row" }, field("Method", method)),
    simulatorFields,
    scoresFields,
    metagradientFields,
    el(
      "div",
      { class: "row" },
      field("Seed", seed),
      field("Verify runs", verify, "R random curricula trained beside the optimised one (≥ 2)"),
    ),
    el("button", { type: "submit", name: "optimize" }, "Optimise"),
    problems,
  );

  return {
    root,
    study: () => study.value,
    async refresh() {
      await guarded(problems, async () => {
        studies = (await listStudies()).filter((s) => s.runs > 0);
        const previous = study.value;
        put(study, studies.map((s) => el("option", { value: s.name }, s.name)));
        if (studies.some((s) => s.name === previous)) study.value = previous;
        if (studies.length === 0) put(problems, note("No studies yet: upload or record runs."));
      });
      await loadStudy();
    },
  };
}
