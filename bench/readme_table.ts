// `deno run --allow-read bench/readme_table.ts FILE...`: the README's benchmark table (markdown)
// from one or more `deno task bench --json --out FILE` results, so the README quotes exactly what
// was measured. With several files each number is the median over the runs (the machines are
// shared and noisy; one run's medians can still catch a bad minute).
import { median } from "../src/gpu/autotune.ts";
import type { BenchFigure } from "./suite.ts";

interface BenchResult {
  adapter: { description?: string; vendor?: string; isFallbackAdapter?: boolean };
  date: string;
  quick: boolean;
  suites: { suite: string; figures: BenchFigure[] }[];
}

const num = (v: number | null) =>
  v === null
    ? "-"
    : Math.abs(v) >= 1000
    ? Math.round(v).toLocaleString("en-US")
    : Math.abs(v) >= 100
    ? v.toFixed(0)
    : Math.abs(v) >= 10
    ? v.toFixed(1)
    : v.toFixed(2);

/** Each figure of the first result with value, baseline and ratio replaced by medians over all. */
export function medianFigures(results: BenchResult[]): BenchFigure[] {
  const all = results.flatMap((r) => r.suites.flatMap((s) => s.figures));
  const of = (name: string, key: "value" | "baseline" | "speedup") => {
    const xs = all.filter((f) => f.name === name).map((f) => f[key]);
    return xs.some((x) => x === null) ? null : median(xs as number[]);
  };
  return results[0].suites.flatMap((s) => s.figures).map((f) => ({
    ...f,
    value: of(f.name, "value")!,
    baseline: of(f.name, "baseline"),
    speedup: of(f.name, "speedup"),
  }));
}

/** Markdown rows for every figure; `|` in names is escaped. */
export function readmeTable(figures: BenchFigure[]): string {
  const esc = (s: string) => s.replaceAll("|", "\\|");
  const lines = [
    "| figure | ours | baseline (same run) | ratio | target |",
    "| --- | --- | --- | --- | --- |",
  ];
  for (const f of figures) {
    lines.push(
      `| ${esc(f.name)} | ${num(f.value)} ${esc(f.unit)} | ${
        f.baseline === null ? "-" : `${num(f.baseline)} (${esc(f.baselineName ?? "")})`
      } | ${f.speedup === null ? "-" : `${f.speedup.toFixed(2)}×`} | ${esc(f.target ?? "")} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.main) {
  if (Deno.args.length === 0) throw new Error("usage: bench/readme_table.ts RESULT.json...");
  const results = await Promise.all(
    Deno.args.map(async (path) => JSON.parse(await Deno.readTextFile(path)) as BenchResult),
  );
  const first = results[0];
  const adapter = first.adapter.description || first.adapter.vendor || "unknown adapter";
  console.log(
    `Measured ${first.date.slice(0, 10)} on ${adapter}` +
      `${first.adapter.isFallbackAdapter ? " (software fallback adapter)" : ""}` +
      `${first.quick ? ", --quick" : ""}; ` +
      (results.length > 1 ? `median of ${results.length} full runs.\n` : "one run.\n"),
  );
  console.log(readmeTable(medianFigures(results)));
}
