// What the Optimise tab shows of one optimisation: the search's objective falling (live from the
// job's progress events, then the stored per-restart traces or iterations), and once the search is
// stored the predicted curves (optimised, random mean, the study's own) against the observed ones
// of the verification runs, the table of predicted against observed objectives and gain with its
// 95 % interval, the verification runs, the most harmful dropped examples, and the downloads.
import { call, enc, trajectories } from "./api.ts";
import { LineChart, type SeriesSpec } from "./chart.ts";
import { el, errorBox, fmt, guarded, note, put, table } from "./dom.ts";
import type { JobProgress } from "./job_progress.ts";
import {
  meanTrajectory,
  objectiveTrajectory,
  type Optimization,
  type Prediction,
  searchPoint,
  storedSearch,
} from "./optimization.ts";
import { frameThrottle } from "./sse.ts";

const DROPPED_SHOWN = 10;

/** The search's objective: live points as the job reports them, then the stored search. */
export class SearchChart {
  readonly root = el("section", { class: "optimize-search" });
  private chart: LineChart;
  private best: (number | null)[] = [];
  private current: (number | null)[] = [];
  private live = 0;
  private drawn = false;
  private redraw = frameThrottle(() => this.draw());

  constructor(method: string) {
    this.chart = new LineChart({
      title: "Search: the objective (lower is better)",
      xLabel: method === "metagradient" ? "iteration" : "search round (restarts one after another)",
      yLabel: "objective (nats)",
      height: 220,
    });
    this.root.append(this.chart.root);
    this.root.dataset.points = "0";
  }

  /** A job progress event: adds its search point, if it carries one. */
  progress(p: JobProgress): void {
    const point = searchPoint(p);
    if (!point) return;
    this.best[point.x] = point.best;
    if (point.current !== null) this.current[point.x] = point.current;
    this.live++;
    this.root.dataset.points = String(this.live);
    this.redraw.schedule();
  }

  private draw(): void {
    const fill = (values: (number | null)[]) => Array.from(values, (v) => v ?? null);
    if (!this.drawn) {
      this.drawn = true;
      const series: SeriesSpec[] = [
        { label: "best so far", values: fill(this.best), spanGaps: true, points: true },
      ];
      if (this.current.length > 0) {
        series.push({ label: "current", values: fill(this.current), spanGaps: true, dash: true });
      }
      this.chart.set(series);
      return;
    }
    this.chart.update(0, fill(this.best));
    if (this.chart.count > 1) this.chart.update(1, fill(this.current));
  }

  /** The finished search as the record keeps it, beside the points seen live. */
  stored(o: Optimization): void {
    this.redraw.now();
    const search = o.result?.search;
    if (!search) return;
    const series: SeriesSpec[] = storedSearch(search).map((s) => ({
      ...s,
      spanGaps: true,
      points: s.values.length < 30,
    }));
    if (this.live > 0) {
      series.push({
        label: "best so far (live)",
        values: Array.from(this.best, (v) => v ?? null),
        spanGaps: true,
        dash: true,
      });
    }
    if (series.length > 0) this.chart.set(series);
    this.root.dataset.stored = String(series.length);
    const rate = search.curriculaPerSecond;
    if (typeof rate === "number") {
      this.root.append(
        note(
          `${search.curriculaEvaluated} curricula evaluated, ${Math.round(rate)} per second ` +
            `(batched rollouts)`,
        ),
      );
    }
  }
}

/** A prediction as a curve over steps 0…T: its trajectory, or its end point only. */
function curve(p: Prediction | null, steps: number): (number | null)[] | null {
  if (!p || p.objective === null) return null;
  if (p.trajectory) return p.trajectory;
  const values: (number | null)[] = new Array(steps + 1).fill(null);
  values[steps] = p.objective;
  return values;
}

/** The observed objective trajectories of the verification runs, optimised first. */
async function observedCurves(o: Optimization) {
  const objective = o.result?.provenance.objective;
  const runs = o.verification?.runs ?? [];
  if (!objective || runs.length === 0) return null;
  const curves = await Promise.all(runs.map(async (r) => {
    const observed = await trajectories(r.run, objective.tests);
    return {
      run: r,
      values: objectiveTrajectory(observed.trajectories, objective.tests, objective.weights),
    };
  }));
  const optimized = curves.find((c) => c.run.kind === "optimized")?.values ?? null;
  const random = curves.filter((c) => c.run.kind === "random" && c.values !== null)
    .map((c) => c.values!);
  return { optimized, randomMean: meanTrajectory(random), randomCount: random.length };
}

function objectiveChart(
  o: Optimization,
  observed: Awaited<ReturnType<typeof observedCurves>>,
): { node: HTMLElement; draw: () => void } | null {
  const result = o.result!;
  const steps = result.curriculum.order.length;
  const p = result.predicted;
  const randomTrajectory = meanTrajectory(
    p.random.flatMap((r) => (r.trajectory ? [r.trajectory] : [])),
  );
  const randomMean: Prediction = { objective: p.randomMean, trajectory: randomTrajectory };
  const series: SeriesSpec[] = [];
  const add = (label: string, values: (number | null)[] | null, predicted: boolean) => {
    if (!values) return;
    series.push({
      label,
      values,
      dash: predicted,
      points: values.filter((v) => v !== null).length === 1,
    });
  };
  add("optimised · predicted", curve(p.optimized, steps), true);
  add(`random mean · predicted (${p.random.length})`, curve(randomMean, steps), true);
  add("study's own · predicted", curve(p.own, steps), true);
  if (observed) {
    add("optimised · observed", observed.optimized, false);
    add(`random mean · observed (${observed.randomCount})`, observed.randomMean, false);
  }
  if (series.length === 0) return null;
  const chart = new LineChart({
    title: observed
      ? "The objective over training: predicted (dashed) and observed"
      : "The objective over training, predicted",
    yLabel: "objective (nats)",
  });
  chart.root.classList.add("optimize-curves");
  // The observed optimised run's last value, as the page computed it (tests compare the record's).
  const last = observed?.optimized?.at(-1);
  if (last !== undefined) chart.root.dataset.observedFinal = String(last);
  // Drawn once the chart is in the page (uPlot measures its parent's width).
  return { node: chart.root, draw: () => chart.set(series) };
}

function gainTable(o: Optimization): HTMLElement {
  const p = o.result!.predicted;
  const v = o.verification?.observed ?? null;
  const optimisedRun = o.verification?.runs.find((r) => r.kind === "optimized") ?? null;
  const randomRuns = o.verification?.runs.filter((r) => r.kind === "random").length ?? 0;
  const interval = v
    ? ` [${fmt(v.interval.lower)}, ${fmt(v.interval.upper)}] ` +
      `${Math.round(100 * v.interval.confidence)} %`
    : "";
  const node = table(["", "predicted", "observed"], [
    [
      "optimised curriculum",
      fmt(p.optimized.objective),
      fmt(v?.optimized ?? optimisedRun?.observed),
    ],
    [
      `random curricula (mean: ${p.random.length} predicted, ${randomRuns} trained)`,
      fmt(p.randomMean),
      fmt(v?.randomMean),
    ],
    ["the study's own curriculum", fmt(p.own.objective), "–"],
    [
      el("strong", {}, "gain over random (random − optimised)"),
      fmt(p.improvement),
      v ? `${fmt(v.improvement)}${interval}` : "–",
    ],
    ...(v?.overTests
      ? [[
        "its interval resampling the test examples too",
        "",
        `[${fmt(v.overTests.lower)}, ${fmt(v.overTests.upper)}] ` +
        `${Math.round(100 * v.overTests.confidence)} %`,
      ]]
      : []),
  ], { class: "optimize-gain" });
  const rows = node.querySelectorAll("tbody tr");
  ["optimized", "random", "own", "gain", "over-tests"].slice(0, rows.length).forEach((name, i) => {
    (rows[i] as HTMLElement).dataset.row = name;
  });
  return node;
}

function runsTable(o: Optimization): HTMLElement | null {
  const v = o.verification;
  if (!v) return null;
  return el(
    "div",
    {},
    el("h4", {}, `Verification by training: ${v.status}`),
    v.runs.some((r) => r.cancelled)
      ? note("Runs marked cancelled were recorded by a verification that then stopped.", "warn")
      : null,
    table(
      ["run", "curriculum", "predicted", "observed"],
      v.runs.map((r) => [
        r.name + (r.cancelled ? " (cancelled)" : ""),
        r.kind === "optimized" ? "optimised" : `random ${(r.index ?? 0) + 1}`,
        fmt(r.predicted),
        fmt(r.observed),
      ]),
      { class: "optimize-runs" },
    ),
  );
}

function droppedTable(o: Optimization): HTMLElement | null {
  const dropped = o.result!.changes.dropped;
  if (dropped.length === 0) return null;
  const harmful = dropped.slice().sort((a, b) => (b.contribution ?? 0) - (a.contribution ?? 0));
  return el(
    "div",
    {},
    el(
      "h4",
      {},
      `Dropped ${dropped.length} of ${o.budget.of}; the most harmful (predicted rise of the ` +
        "objective had each been kept)",
    ),
    table(
      ["training example", "contribution if kept"],
      harmful.slice(0, DROPPED_SHOWN).map((d) => [d.id, fmt(d.contribution)]),
      { class: "optimize-dropped" },
    ),
  );
}

/** A button that fetches the curriculum with the token and saves it as a file. */
function downloadButton(o: Optimization, format: "json" | "gptfluence", label: string) {
  const where = el("span");
  const button = el("button", {
    type: "button",
    class: "secondary",
    name: `download-${format}`,
  }, label);
  button.addEventListener("click", () =>
    void guarded(where, async () => {
      put(where);
      const response = await call(
        `/v1/curricula/optimizations/${enc(o.id)}/curriculum?format=${format}`,
      );
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = el("a", {
        href: url,
        download: `curriculum-${o.id.slice(0, 8)}.${format === "json" ? "json" : "zip"}`,
      });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      button.dataset.downloaded = String(blob.size);
    }));
  return el("span", {}, button, where);
}

function summary(o: Optimization): HTMLElement {
  const provenance = o.result?.provenance ?? {};
  const source = o.method === "simulator"
    ? `simulator ${String(provenance.simulator ?? "").slice(0, 8)}`
    : o.method === "scores"
    ? `score set ${String(provenance.scoreSet ?? "").slice(0, 8)}`
    : `metagradients of run ${String(provenance.run ?? "").slice(0, 8)}`;
  return el(
    "p",
    { class: "optimize-summary" },
    el("code", {}, o.id.slice(0, 8)),
    ` · ${source} · keeps ${o.budget.keep} of ${o.budget.of} training examples · objective: `,
    `${o.objective.tests.length} test example(s), ${o.objective.at} loss`,
    provenance.baseRun ? ` · base run ${String(provenance.baseRun).slice(0, 8)}` : "",
    o.result ? ` · ${fmt(o.result.seconds, 1)} s` : "",
  );
}

export interface ResultView {
  root: HTMLElement;
  /** Draws the charts; call once `root` is in the page. */
  shown(): void;
}

/** Everything the record says, once its search is stored (verification included if any). */
export async function optimizationResult(o: Optimization): Promise<ResultView> {
  const root = el("section", { class: "optimize-result", "data-optimization": o.id });
  root.dataset.status = o.status;
  root.append(summary(o));
  if (o.error) root.append(errorBox(new Error(`${o.status}: ${o.error}`)));
  if (!o.result) {
    if (!o.error) root.append(note(`The search has not finished (${o.status}).`));
    return { root, shown: () => {} };
  }
  let observed: Awaited<ReturnType<typeof observedCurves>> = null;
  await guarded(root, async () => {
    observed = await observedCurves(o);
  });
  root.dataset.verified = String((o.verification?.observed ?? null) !== null);
  const chart = objectiveChart(o, observed);
  root.append(
    ...[
      chart?.node ?? null,
      gainTable(o),
      runsTable(o),
      droppedTable(o),
      el(
        "div",
        { class: "field buttons" },
        downloadButton(o, "json", "Download JSON"),
        downloadButton(o, "gptfluence", "Download GPTfluence layout (zip)"),
      ),
    ].filter((n): n is HTMLElement => n !== null),
  );
  return { root, shown: () => chart?.draw() };
}
