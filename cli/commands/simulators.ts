// simfluence simulators list|show|delete, and how a simulator is printed (fit uses it too).
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { integer } from "../ids.ts";
import { note, num, pageNote, printJson, printTable } from "../output.ts";

export interface Simulator {
  id: string;
  study: string;
  kind: string;
  status: string;
  jobId: string | null;
  trainRuns: string[];
  validationRuns: string[];
  lambda: number | "auto" | null;
  lambdaFactor: number | null;
  fit: Record<string, unknown> | null;
  /** The first 20 and how many; all at GET /v1/simulators/{id}/unseen-train-examples. */
  unseenTrainExamples: { ids: string[]; total: number };
  error: string | null;
  createdAt: string;
}

interface LambdaTrial {
  factor: number;
  validationMse: number;
  maxIterations: number;
  seconds: number;
}

/** Scalars of the fit statistics, nested objects flattened ("iterations.max"). */
function fitRows(fit: Record<string, unknown>, prefix = ""): [string, string][] {
  const rows: [string, string][] = [];
  for (const [key, value] of Object.entries(fit)) {
    const name = prefix + key;
    if (typeof value === "number") rows.push([name, num(value)]);
    else if (typeof value === "string" || typeof value === "boolean") {
      rows.push([name, String(value)]);
    } else if (value && typeof value === "object" && !Array.isArray(value)) {
      rows.push(...fitRows(value as Record<string, unknown>, `${name}.`));
    } else if (Array.isArray(value)) rows.push([name, `${value.length} entries`]);
  }
  return rows;
}

export function printSimulator(sim: Simulator): void {
  const lambda = sim.lambda === "auto"
    ? `auto → factor ${num(sim.lambdaFactor)}`
    : sim.lambda === null
    ? "-"
    : num(sim.lambda);
  const rows: [string, string][] = [
    ["simulator", sim.id],
    ["study", sim.study],
    ["kind", sim.kind],
    ["status", sim.status],
    ["λ", lambda],
    ["train runs", String(sim.trainRuns.length)],
    ["validation runs", String(sim.validationRuns.length)],
    ["unseen training ids", String(sim.unseenTrainExamples.total)],
  ];
  if (sim.error) rows.push(["error", sim.error]);
  if (sim.fit) rows.push(...fitRows(sim.fit).map(([k, v]): [string, string] => [`fit.${k}`, v]));
  printTable(["field", "value"], rows);
  const trials = (sim.fit?.lambdaTrials ?? []) as LambdaTrial[];
  if (trials.length > 0) {
    const chosen = sim.lambdaFactor;
    printTable(
      ["λ factor", "validation MSE", "CG iterations", "seconds", ""],
      trials.map((t) => [
        num(t.factor),
        num(t.validationMse),
        t.maxIterations,
        num(t.seconds),
        t.factor === chosen ? "chosen" : "",
      ]),
    );
  }
}

export function simulatorsCommand(): Command {
  const simulators = new Command("simulators").description("fitted simulators: list, show, delete");

  simulators.command("list")
    .option("--study <study>", "only this study's simulators")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ simulators: Simulator[]; total: number }>(
        "/v1/simulators",
        { study: options.study, limit: options.limit, offset: options.offset },
      );
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "study", "kind", "status", "λ factor", "train runs", "created"],
        page.simulators.map((s) => [
          s.id,
          s.study,
          s.kind,
          s.status,
          num(s.lambdaFactor),
          s.trainRuns.length,
          s.createdAt.slice(0, 19),
        ]),
      );
      note(`simulators ${pageNote(page.simulators.length, options.offset, page.total)}`);
    });

  simulators.command("show")
    .argument("<simulator>", "simulator id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const sim = await ctx.client.get<Simulator>(`/v1/simulators/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson(sim);
      printSimulator(sim);
    });

  simulators.command("delete")
    .argument("<simulator>", "simulator id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/simulators/${encodeURIComponent(id)}`);
      if (ctx.json) printJson({ deleted: [id] });
      else console.log(`deleted simulator ${id}`);
    });

  return simulators;
}
