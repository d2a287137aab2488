// View 4: models and datasets, and recording training runs with live progress (run, step,
// training loss, tokens/s, ETA) and a live training-loss chart. AdamW takes an optional epsRoot
// (smooths MAGIC's metagradients); the "mask" curriculum replays a recorded base run with a
// fraction of its training ids weighted 0 (everything else comes from the base run).
import { getJson, listAll, type Run } from "./api.ts";
import { LineChart } from "./chart.ts";
import { el, field, fmt, guarded, note, put, select, table } from "./dom.ts";
import { JobView } from "./job_progress.ts";
import type { View } from "./view.ts";

interface Model {
  id: string;
  name: string | null;
  parameters: number;
  source: string;
  tokenizer: string;
  config: Record<string, number>;
  createdAt: string;
}

interface Dataset {
  id: string;
  name: string;
  source: string;
  examples: number;
  format: string;
}

export function modelsView(): View {
  const lists = el("div");
  const formArea = el("div");
  const jobArea = el("div");
  const chart = new LineChart({ title: "Training loss", xLabel: "training step", height: 220 });

  async function load(): Promise<void> {
    put(lists);
    await guarded(lists, async () => {
      const [models, datasets, runs] = await Promise.all([
        listAll<Model>("/v1/models", "models"),
        listAll<Dataset>("/v1/datasets", "datasets"),
        listAll<Run>("/v1/runs", "runs"),
      ]);
      put(
        lists,
        el("h3", {}, "Models"),
        models.length === 0
          ? note("No models yet (POST /v1/models creates or uploads one).")
          : table(
            ["name", "id", "parameters", "layers × width", "tokenizer", "source"],
            models.map((m) => [
              m.name ?? "–",
              el("code", {}, m.id.slice(0, 8)),
              m.parameters.toLocaleString("en"),
              `${m.config.n_layer} × ${m.config.n_embd}`,
              m.tokenizer,
              m.source,
            ]),
            { class: "models-table" },
          ),
        el("h3", {}, "Datasets"),
        table(
          ["name", "id", "examples", "format", "source"],
          datasets.map((d) => [d.name, el("code", {}, d.id), d.examples, d.format, d.source]),
          { class: "datasets-table" },
        ),
      );
      renderForm(models, datasets, runs.filter((r) => r.source === "training"));
    });
  }

  function renderForm(models: Model[], datasets: Dataset[], recorded: Run[]): void {
    if (models.length === 0) {
      put(formArea);
      return;
    }
    const input = (name: string, value: string | number, type = "number") =>
      el("input", {
        type,
        name,
        value,
        size: 8,
        min: type === "number" ? 0 : undefined,
        step: "any",
      });
    const model = select(models.map((m) => ({ value: m.id, label: m.name ?? m.id.slice(0, 8) })), {
      name: "train-model",
    });
    const dataset = select(datasets.map((d) => ({ value: d.id, label: d.name })), {
      name: "train-dataset",
    });
    const study = input("train-study", "recorded", "text");
    const trainCount = input("train-examples", 12);
    const testCount = input("test-examples", 4);
    const runs = input("runs", 2);
    const steps = input("steps", 10);
    const batchSize = input("batch-size", 4);
    const lr = input("lr", 0.01);
    // Checkpoints are what TracIn reads (Attribution); blank records none.
    const checkpointEvery = input("checkpoint-every", "");
    const optimizer = select([{ value: "adamw", label: "AdamW" }, { value: "sgd", label: "SGD" }], {
      name: "optimizer",
    });
    // Blank: AdamW's default (0).
    const epsRoot = input("eps-root", "");
    const curriculum = select([
      { value: "shuffle", label: "shuffle" },
      { value: "subsample", label: "subsample (½)" },
      ...(recorded.length > 0 ? [{ value: "mask", label: "mask runs over a base run" }] : []),
    ], { name: "curriculum" });
    const baseRun = select(
      recorded.map((r) => ({ value: r.id, label: `${r.study} · ${r.name}` })),
      { name: "mask-base-run" },
    );
    const dropFraction = input("drop-fraction", 0.1);
    const maskFields = el(
      "div",
      { class: "row", hidden: true },
      field("Base run", baseRun, "model, dataset, examples, batch size, optimizer, steps: its own"),
      field("Drop fraction", dropFraction, "of its training ids, weighted 0 in each run"),
    );
    curriculum.addEventListener("change", () => {
      maskFields.hidden = curriculum.value !== "mask";
    });
    /** The request: a mask run takes everything but the study, runs and checkpoints from its base. */
    const request = (): Record<string, unknown> => {
      const checkpoints = Number(checkpointEvery.value) > 0
        ? { checkpointEvery: Number(checkpointEvery.value) }
        : {};
      if (curriculum.value === "mask") {
        return {
          study: study.value.trim(),
          runs: Number(runs.value),
          curriculum: {
            kind: "mask",
            baseRun: baseRun.value,
            dropFraction: Number(dropFraction.value),
          },
          ...checkpoints,
        };
      }
      const adamw = optimizer.value === "adamw" && epsRoot.value.trim() !== "";
      return {
        study: study.value.trim(),
        model: model.value,
        dataset: dataset.value,
        trainExamples: Number(trainCount.value),
        testExamples: Number(testCount.value),
        runs: Number(runs.value),
        steps: Number(steps.value),
        batchSize: Number(batchSize.value),
        optimizer: {
          kind: optimizer.value,
          lr: Number(lr.value),
          ...(adamw ? { epsRoot: Number(epsRoot.value) } : {}),
        },
        curriculum: curriculum.value,
        ...(curriculum.value === "subsample" ? { subsampleFraction: 0.5 } : {}),
        ...checkpoints,
      };
    };
    put(
      formArea,
      el("h3", {}, "Record training runs"),
      el(
        "form",
        {
          "aria-label": "record training runs",
          onsubmit: (e: Event) => {
            e.preventDefault();
            void record(request());
          },
        },
        el(
          "div",
          { class: "row" },
          field("Study", study),
          field("Model", model),
          field("Dataset", dataset),
          field("Curriculum", curriculum),
        ),
        el(
          "div",
          { class: "row" },
          field("Training examples", trainCount),
          field("Test examples", testCount),
          field("Runs", runs),
          field("Steps per run", steps),
          field("Batch size", batchSize),
          field("Optimizer", optimizer),
          field("Learning rate", lr),
          field("epsRoot", epsRoot, "AdamW: √(v̂ + epsRoot); blank: 0"),
          field("Checkpoint every", checkpointEvery, "steps; for TracIn"),
        ),
        maskFields,
        el("button", { type: "submit", name: "record" }, "Start training runs"),
      ),
    );
  }

  async function record(body: Record<string, unknown>): Promise<void> {
    put(jobArea);
    await guarded(jobArea, async () => {
      const started = await getJson<{ job: string; runNames: string[] }>("/v1/training-runs", {
        json: body,
      });
      const view = new JobView(started.job, `Recording ${started.runNames.join(", ")}`);
      // One curve per run, x = the run's own step.
      const perRun = new Map<number, { index: number; losses: (number | null)[] }>();
      chart.set([]);
      put(jobArea, view.root, chart.root);
      await view.follow((p) => {
        const d = p.details;
        if (!d || typeof d.trainLoss !== "number" || typeof d.run !== "number") return;
        let series = perRun.get(d.run);
        if (!series) {
          const losses: (number | null)[] = [null];
          series = {
            index: chart.add({ label: started.runNames[d.run] ?? `run ${d.run}`, values: losses }),
            losses,
          };
          perRun.set(d.run, series);
        }
        series.losses[d.runStep] = d.trainLoss;
        for (let i = 0; i < series.losses.length; i++) series.losses[i] ??= null;
        chart.update(series.index, series.losses);
        view.root.dataset.lastLoss = fmt(d.trainLoss);
      });
    });
  }

  const root = el(
    "div",
    { class: "view", id: "view-models" },
    el("button", { type: "button", class: "secondary", onclick: () => void load() }, "Refresh"),
    lists,
    formArea,
    jobArea,
  );
  return { root, refresh: load };
}
