// The attribution tab's "start" forms, one per method, each a job followed live: EK-FAC (or KFAC,
// diagonal, identity) factors; TracIn-CP over a recorded run's checkpoints, optionally projected;
// MAGIC's exact metagradients of a recorded run (magic_start.ts); gradient projection (dense TRAK
// or Kronecker LoGra) and scores from stored gradients. A score set a job produces is handed to
// the tab (`onScoreSet`), which opens it.
import { getJson, listAll, listStudies, type Run } from "./api.ts";
import { el, field, guarded, note, put, select } from "./dom.ts";
import { JobView } from "./job_progress.ts";
import { magicForm } from "./magic_start.ts";

interface Named {
  id: string;
  name: string | null;
}

interface GradientsRecord {
  id: string;
  status: string;
  model: string;
  dataset: string;
  ids: number;
  projection: { kind: string; dim: number };
  parameters: string;
}

export interface StartForms {
  root: HTMLElement;
  refresh(): Promise<void>;
}

/** Comma- or space-separated ids; none means "every example" (the field is then left out). */
function idList(text: string): string[] | undefined {
  const ids = text.split(/[\s,]+/).filter((s) => s !== "");
  return ids.length > 0 ? ids : undefined;
}

function textInput(name: string, value = "", size = 24): HTMLInputElement {
  return el("input", { type: "text", name, value, size });
}

function numberInput(name: string, value: number): HTMLInputElement {
  return el("input", { type: "number", name, value, min: 1, step: 1, size: 8 });
}

export function attributionStart(onScoreSet: (id: string) => Promise<void>): StartForms {
  const area = el("div", { class: "start-forms" });
  const jobArea = el("div", { class: "start-jobs" });

  /** Starts one job from a form and follows it; `done` runs when it succeeded. */
  async function run(
    title: string,
    path: string,
    body: unknown,
    done: (started: Record<string, unknown>) => Promise<void>,
  ): Promise<void> {
    put(jobArea);
    await guarded(jobArea, async () => {
      const started = await getJson<Record<string, unknown> & { job: string }>(path, {
        json: body,
      });
      const view = new JobView(started.job, title);
      put(jobArea, view.root);
      const job = await view.follow();
      if (job.status === "succeeded") await done(started);
    });
  }

  const scoreSetOf = (started: Record<string, unknown>) =>
    onScoreSet((started.scores as { id: string }).id);

  async function refresh(): Promise<void> {
    await guarded(area, async () => {
      const [models, datasets, runs, gradients, studies] = await Promise.all([
        listAll<Named>("/v1/models", "models"),
        listAll<Named>("/v1/datasets", "datasets"),
        listAll<Run>("/v1/runs", "runs"),
        listAll<GradientsRecord>("/v1/gradients", "gradients"),
        listStudies(),
      ]);
      if (models.length === 0) {
        put(area, note("No models yet: create or upload one to start an attribution method."));
        return;
      }
      const recorded = runs.filter((r) => r.source === "training");
      put(
        area,
        el("h3", {}, "Start an attribution method"),
        el(
          "div",
          { class: "columns start" },
          factorsForm(models, datasets),
          tracinForm(recorded),
          magicForm(studies, datasets, onScoreSet),
          projectionForm(models, datasets),
          gradientScoresForm(gradients.filter((g) => g.status === "ready")),
        ),
      );
    });
  }

  const modelOptions = (models: Named[]) =>
    models.map((m) => ({ value: m.id, label: m.name ?? m.id.slice(0, 8) }));
  const datasetOptions = (datasets: Named[]) =>
    datasets.map((d) => ({ value: d.id, label: d.name ?? d.id }));

  function factorsForm(models: Named[], datasets: Named[]): HTMLElement {
    const model = select(modelOptions(models), { name: "factors-model" });
    const dataset = select(datasetOptions(datasets), { name: "factors-dataset" });
    const ids = textInput("factors-ids");
    const strategy = select(
      ["ekfac", "kfac", "diagonal", "identity"].map((s) => ({ value: s, label: s })),
      { name: "factors-strategy" },
    );
    const modules = select([{ value: "mlp", label: "MLP layers" }, {
      value: "all",
      label: "all linear layers",
    }], { name: "factors-modules" });
    return el(
      "form",
      {
        class: "start-form",
        "aria-label": "fit influence factors",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run("Fitting factors", "/v1/influence/factors", {
            model: model.value,
            dataset: dataset.value,
            ids: idList(ids.value),
            strategy: strategy.value,
            modules: modules.value,
          }, () => onScoreSet(""));
        },
      },
      el("h4", {}, "Influence factors (EK-FAC)"),
      field("Model", model),
      field("Dataset", dataset),
      field("Training ids", ids, "comma-separated; empty: every example"),
      field("Strategy", strategy),
      field("Modules", modules),
      el("button", { type: "submit", name: "start-factors" }, "Fit factors"),
    );
  }

  function tracinForm(recorded: Run[]): HTMLElement {
    if (recorded.length === 0) {
      return el(
        "section",
        { class: "start-form" },
        el("h4", {}, "TracIn-CP"),
        note("No recorded runs: record one with checkpoints (Models and recording)."),
      );
    }
    const runPicker = select(
      recorded.map((r) => ({ value: r.id, label: `${r.study} · ${r.name}` })),
      { name: "tracin-run" },
    );
    const prompt = el("textarea", { name: "tracin-prompt", rows: 2, cols: 28 });
    const completion = el("textarea", { name: "tracin-completion", rows: 2, cols: 28 });
    const parameters = select(
      ["all", "linear", "mlp"].map((p) => ({ value: p, label: p })),
      { name: "tracin-parameters" },
    );
    const projection = select(
      [{ value: "", label: "none (exact gradients)" }, { value: "dense", label: "dense (TRAK)" }, {
        value: "kronecker",
        label: "Kronecker (LoGra)",
      }],
      { name: "tracin-projection" },
    );
    const dim = numberInput("tracin-dim", 1024);
    return el(
      "form",
      {
        class: "start-form",
        "aria-label": "start TracIn",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run("TracIn-CP", "/v1/influence/tracin", {
            run: runPicker.value,
            queries: {
              examples: [{ id: "query", prompt: prompt.value, completion: completion.value }],
            },
            parameters: parameters.value,
            ...(projection.value
              ? { projection: { kind: projection.value, dim: Number(dim.value) } }
              : {}),
          }, scoreSetOf);
        },
      },
      el("h4", {}, "TracIn-CP (a recorded run's checkpoints)"),
      field("Run", runPicker),
      field("Query prompt", prompt),
      field("Query completion", completion),
      field("Parameters", parameters),
      field("Projection", projection),
      field("Projection dim", dim),
      el("button", { type: "submit", name: "start-tracin" }, "Start TracIn"),
    );
  }

  function projectionForm(models: Named[], datasets: Named[]): HTMLElement {
    const model = select(modelOptions(models), { name: "projection-model" });
    const dataset = select(datasetOptions(datasets), { name: "projection-dataset" });
    const ids = textInput("projection-ids");
    const kind = select([{ value: "kronecker", label: "Kronecker (LoGra)" }, {
      value: "dense",
      label: "dense (TRAK)",
    }], { name: "projection-kind" });
    const dim = numberInput("projection-dim", 1024);
    const parameters = select(
      ["linear", "mlp", "all"].map((p) => ({ value: p, label: p })),
      { name: "projection-parameters" },
    );
    return el(
      "form",
      {
        class: "start-form",
        "aria-label": "project gradients",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run("Projecting gradients", "/v1/gradients", {
            model: model.value,
            dataset: dataset.value,
            ids: idList(ids.value),
            projection: { kind: kind.value, dim: Number(dim.value) },
            parameters: parameters.value,
          }, () => refresh());
        },
      },
      el("h4", {}, "Gradient projection"),
      field("Model", model),
      field("Dataset", dataset),
      field("Example ids", ids, "comma-separated; empty: every example"),
      field("Kind", kind),
      field("Dim", dim, "Kronecker: a multiple of the tracked layers"),
      field("Parameters", parameters, "Kronecker: linear or mlp"),
      el("button", { type: "submit", name: "start-projection" }, "Project"),
    );
  }

  function gradientScoresForm(ready: GradientsRecord[]): HTMLElement {
    if (ready.length === 0) {
      return el(
        "section",
        { class: "start-form" },
        el("h4", {}, "Scores from stored gradients"),
        note("No projected gradients yet: project some first."),
      );
    }
    const options = ready.map((g) => ({
      value: g.id,
      label: `${g.id.slice(0, 8)} · ${g.dataset} · ${g.ids} × ${g.projection.dim} ` +
        `(${g.projection.kind}, ${g.parameters})`,
    }));
    const train = select(options, { name: "gradients-train" });
    const queries = select(options, { name: "gradients-queries" });
    const method = select(
      ["trak", "dot", "cosine"].map((m) => ({ value: m, label: m })),
      { name: "gradients-method" },
    );
    return el(
      "form",
      {
        class: "start-form",
        "aria-label": "scores from gradients",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void run("Scoring from gradients", "/v1/influence/scores", {
            gradients: { train: train.value, queries: queries.value },
            method: method.value,
          }, scoreSetOf);
        },
      },
      el("h4", {}, "Scores from stored gradients"),
      field("Training gradients", train),
      field("Query gradients", queries),
      field("Method", method),
      el("button", { type: "submit", name: "start-gradient-scores" }, "Score"),
    );
  }

  return {
    root: el("section", { class: "attribution-start" }, area, jobArea),
    refresh,
  };
}
