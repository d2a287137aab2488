// Line charts on uPlot: x is the training step, y a loss in nats. One chart per plot area; series
// can be added and extended while a stream arrives.
import uPlot from "uplot";
import { el, fmt } from "./dom.ts";
import { engineering } from "./numbers.ts";

export interface SeriesSpec {
  label: string;
  /** y values at x = 0, 1, 2, …; null where the series has no point (yet). */
  values: (number | null)[];
  dash?: boolean;
  /** Join the points across nulls (a series sampled at some x only); default false. */
  spanGaps?: boolean;
  /** Mark each point (a series of a few points); default false. */
  points?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel?: string;
  yLabel?: string;
  height?: number;
}

/** Distinct hues at a lightness dark enough for text-level contrast on white. */
export function colour(i: number): string {
  const hue = (i * 137.508) % 360;
  return `hsl(${hue.toFixed(0)}, 75%, 36%)`;
}

const LEGEND_LIMIT = 12;

export class LineChart {
  readonly root: HTMLElement;
  private plot: uPlot | null = null;
  private series: SeriesSpec[] = [];
  private length = 0;

  constructor(private options: ChartOptions) {
    this.root = el("figure", { class: "chart" });
  }

  /**
   * Replaces every series and redraws. When the first draw is done, `data-draw-ms` on the root holds
   * the time from this call to the end of that draw (data preparation, layout and every path).
   */
  set(series: SeriesSpec[]): void {
    const started = performance.now();
    delete this.root.dataset.drawn;
    let first = true;
    this.series = series;
    this.length = Math.max(0, ...series.map((s) => s.values.length));
    this.plot?.destroy();
    this.root.replaceChildren(
      el(
        "figcaption",
        {},
        this.options.title,
        series.length > LEGEND_LIMIT ? " (hover a curve to name it)" : "",
      ),
    );
    // The curve nearest the cursor is named under the plot, whether or not the legend is shown.
    const hover = el("div", { class: "chart-hover" });
    let focused: number | null = null;
    const describe = (u: uPlot) => {
      const spec = focused !== null && focused > 0 ? this.series[focused - 1] : undefined;
      if (!spec) {
        hover.textContent = "";
        delete this.root.dataset.hover;
        return;
      }
      const at = u.cursor.idx;
      const value = at === null || at === undefined ? null : spec.values[at];
      hover.textContent = spec.label +
        (value !== null && value !== undefined ? `: ${fmt(value)} at step ${at}` : "");
      this.root.dataset.hover = spec.label;
    };
    const width = Math.max(320, Math.min(this.root.parentElement?.clientWidth ?? 800, 900) - 8);
    this.plot = new uPlot(
      {
        width,
        height: this.options.height ?? 280,
        legend: { show: series.length <= LEGEND_LIMIT },
        scales: { x: { time: false } },
        focus: { alpha: 0.3 },
        cursor: { focus: { prox: 30 } },
        hooks: {
          setSeries: [(u, index) => {
            focused = index ?? null;
            describe(u);
          }],
          setCursor: [(u) => describe(u)],
          draw: [() => {
            if (!first) return;
            first = false;
            this.root.dataset.drawMs = (performance.now() - started).toFixed(1);
            this.root.dataset.drawn = "true";
          }],
        },
        axes: [
          { label: this.options.xLabel ?? "training step", stroke: "#222" },
          { label: this.options.yLabel ?? "loss (nats)", stroke: "#222" },
        ],
        series: [
          { label: "step" },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: colour(i),
            width: series.length > 40 ? 1 : 1.5,
            dash: s.dash ? [6, 4] : undefined,
            spanGaps: s.spanGaps ?? false,
            points: { show: s.points ?? false },
          })),
        ],
      },
      this.data(),
      this.root,
    );
    this.root.append(hover);
    this.root.dataset.series = String(series.length);
  }

  /** Adds a series (its values may be filled in later by `update`); returns its index. */
  add(spec: SeriesSpec): number {
    this.set([...this.series, spec]);
    return this.series.length - 1;
  }

  /** Values of one series changed (in place or longer): redraw the data only. */
  update(index: number, values: (number | null)[]): void {
    const series = this.series[index];
    if (!series) return; // the chart was reset since this series was added
    series.values = values;
    this.length = Math.max(this.length, values.length);
    this.plot?.setData(this.data());
  }

  /** How many points series `index` has (its non-null values). */
  points(index: number): number {
    return this.series[index]?.values.filter((v) => v !== null).length ?? 0;
  }

  get count(): number {
    return this.series.length;
  }

  private data(): uPlot.AlignedData {
    const xs = Array.from({ length: this.length }, (_, i) => i);
    const ys = this.series.map((s) => {
      const column: (number | null)[] = s.values.slice();
      while (column.length < this.length) column.push(null);
      return column;
    });
    return [xs, ...ys] as uPlot.AlignedData;
  }
}

/** Horizontal bars as plain elements (per-layer scores): each bar's width is its share of the max. */
export function bars(
  entries: readonly { label: string; value: number }[],
  unit: string,
): HTMLElement {
  const max = Math.max(1e-30, ...entries.map((e) => Math.abs(e.value)));
  return el(
    "div",
    { class: "bars", role: "list" },
    entries.map((e) =>
      el(
        "div",
        { class: "bar-row", role: "listitem" },
        el("span", { class: "bar-label" }, e.label),
        el(
          "span",
          { class: "bar-track" },
          el("span", {
            class: `bar ${e.value >= 0 ? "pos" : "neg"}`,
            style: `width: ${(100 * Math.abs(e.value) / max).toFixed(1)}%`,
          }),
        ),
        el("span", { class: "bar-value" }, `${engineering(e.value)}${unit ? ` ${unit}` : ""}`),
      )
    ),
  );
}
