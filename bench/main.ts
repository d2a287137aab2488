// `deno task bench [--quick] [--json] [--out FILE] [--suite NAME] [--peak-tflops N]
// [--backend auto|webgpu|cpu]`: runs every registered suite on this machine's adapter and prints
// figure, backend, ours, baseline, ratio, target; with --json the same figures go to stdout (or
// FILE) as JSON and the table to stderr. The backend is the service's choice (SIMFLUENCE_BACKEND,
// default auto) unless --backend names one; a row that measures another backend says so itself.
import { BACKEND_SETTINGS, type BackendSetting } from "../src/gpu/backend.ts";
import { GpuRuntime } from "../src/gpu/runtime.ts";
import { matmulConfig } from "../src/gpu/kernels/matmul.ts";
import { backendSuite } from "./backend.ts";
import { clusterSuite } from "./cluster.ts";
import { compareSuite } from "./compare.ts";
import { compareMagicSuite } from "./compare_magic.ts";
import { gpuSuite } from "./gpu.ts";
import { influence124mSuite, influenceSuite } from "./influence.ts";
import { linalgSuite } from "./linalg.ts";
import { matmulSuite } from "./matmul.ts";
import { metagradientsSuite } from "./metagradients.ts";
import { modelSuite } from "./model.ts";
import { optimizeSuite } from "./optimize.ts";
import { projection124mSuite, projectionSuite } from "./projection.ts";
import { simfluenceSuite } from "./simfluence.ts";
import { simulateSseSuite } from "./simulate_sse.ts";
import { trainingSuite } from "./training.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";

/** Every suite; a new bench/*.ts plugs in by being added here. */
export const SUITES: BenchSuite[] = [
  matmulSuite,
  simfluenceSuite,
  simulateSseSuite,
  modelSuite,
  trainingSuite,
  influenceSuite,
  influence124mSuite,
  metagradientsSuite,
  projectionSuite,
  projection124mSuite,
  compareSuite,
  compareMagicSuite,
  gpuSuite,
  linalgSuite,
  optimizeSuite,
  clusterSuite,
  backendSuite,
];

interface Args {
  quick: boolean;
  json: boolean;
  out: string | null;
  suites: string[];
  peakTflops?: number;
  backend: BackendSetting;
}

const USAGE =
  "--quick, --json, --out FILE, --suite NAME, --peak-tflops N, --backend auto|webgpu|cpu";

function backendSetting(text: string | undefined): BackendSetting {
  const value = (text ?? "").trim().toLowerCase() || "auto";
  if (!(BACKEND_SETTINGS as readonly string[]).includes(value)) {
    throw new Error(
      `--backend (or SIMFLUENCE_BACKEND) needs one of ${BACKEND_SETTINGS.join("|")}, not ${text}`,
    );
  }
  return value as BackendSetting;
}

/** --peak-tflops N: the adapter's FP32 peak in TFLOP/s, for bench/gpu.ts. */
function positive(text: string | undefined): number {
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--peak-tflops needs a positive number, not ${text}`);
  return value;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    quick: false,
    json: false,
    out: null,
    suites: [],
    backend: backendSetting(Deno.env.get("SIMFLUENCE_BACKEND")),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--quick") args.quick = true;
    else if (arg === "--json") args.json = true;
    else if (arg === "--out") args.out = argv[++i] ?? null;
    else if (arg.startsWith("--out=")) args.out = arg.slice(6);
    else if (arg === "--suite") args.suites.push(argv[++i] ?? "");
    else if (arg.startsWith("--suite=")) args.suites.push(arg.slice(8));
    else if (arg === "--peak-tflops") args.peakTflops = positive(argv[++i]);
    else if (arg.startsWith("--peak-tflops=")) args.peakTflops = positive(arg.slice(14));
    else if (arg === "--backend") args.backend = backendSetting(argv[++i]);
    else if (arg.startsWith("--backend=")) args.backend = backendSetting(arg.slice(10));
    else throw new Error(`unknown argument ${arg} (use ${USAGE})`);
  }
  return args;
}

const num = (v: number | null) =>
  v === null ? "-" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

function table(figures: BenchFigure[]): string {
  const rows = [
    ["figure", "backend", "ours", "baseline", "ratio", "target"],
    ...figures.map((f) => [
      f.name,
      f.backend ?? "",
      `${num(f.value)} ${f.unit}`,
      f.baseline === null
        ? (f.baselineName ? `- (${f.baselineName})` : "-")
        : `${num(f.baseline)} (${f.baselineName})`,
      f.speedup === null ? "-" : `${f.speedup.toFixed(1)}x`,
      f.target ?? "",
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join(
    "\n",
  );
}

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const log = (line: string) => (args.json && !args.out ? console.error : console.log)(line);
  const rt = await GpuRuntime.create({ backend: args.backend });
  const device = rt.gpu.describe();
  log(
    `adapter: ${
      device.description || device.vendor
    } (fallback: ${device.isFallbackAdapter}, backend: ${device.backend})`,
  );
  log(`kernels on the ${rt.backend} backend (${rt.backendReason})`);
  const started = performance.now();
  const results: { suite: string; figures: BenchFigure[] }[] = [];
  for (const suite of SUITES) {
    if (args.suites.length ? !args.suites.includes(suite.name) : suite.onlyWhenNamed) continue;
    const t0 = performance.now();
    const figures = (await suite.run(rt, { quick: args.quick, peakTflops: args.peakTflops }))
      .map((f) => ({ ...f, backend: f.backend ?? rt.backend }));
    results.push({ suite: suite.name, figures });
    log(`suite ${suite.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  log(`matmul config: ${JSON.stringify(matmulConfig(rt))}`);
  log("");
  log(table(results.flatMap((r) => r.figures)));
  if (args.json) {
    const json = JSON.stringify(
      {
        adapter: device,
        backend: { name: rt.backend, reason: rt.backendReason },
        date: new Date().toISOString(),
        quick: args.quick,
        seconds: (performance.now() - started) / 1000,
        suites: results,
      },
      null,
      2,
    );
    if (args.out) await Deno.writeTextFile(args.out, json + "\n");
    else console.log(json);
  }
  rt.close();
}
