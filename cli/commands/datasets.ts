// simfluence datasets list|show|upload|delete
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { integer } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";
import { progressBar } from "../progress.ts";
import { counted, fileSize, stem } from "../upload.ts";

interface Dataset {
  id: string;
  name: string;
  source: string;
  examples: number;
  format: string;
  createdAt: string | null;
}

type Example = { id: string; text?: string; prompt?: string; completion?: string };

const HEAD = ["id", "name", "source", "examples", "format"];
const row = (d: Dataset) => [d.id, d.name, d.source, d.examples, d.format];

/** One line of an example for a table cell. */
function preview(e: Example): string {
  const text = e.text ?? `${e.prompt ?? ""} ⟶ ${e.completion ?? ""}`;
  const line = text.replace(/\s+/g, " ");
  return line.length > 70 ? line.slice(0, 69) + "…" : line;
}

export function datasetsCommand(): Command {
  const datasets = new Command("datasets").description("JSONL datasets of examples");

  datasets.command("list")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ datasets: Dataset[]; total?: number }>(
        "/v1/datasets",
        { limit: options.limit, offset: options.offset },
      );
      if (ctx.json) return printJson(page);
      printTable(HEAD, page.datasets.map(row));
      if (page.total !== undefined) {
        note(`datasets ${pageNote(page.datasets.length, options.offset, page.total)}`);
      }
    });

  datasets.command("show")
    .description("a dataset and a page of its examples")
    .argument("<dataset>", "dataset id or name")
    .option("--limit <n>", "examples shown", integer, 10)
    .option("--offset <n>", "skip this many examples", integer, 0)
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ dataset: Dataset; examples: Example[] }>(
        `/v1/datasets/${encodeURIComponent(id)}`,
        { limit: options.limit, offset: options.offset },
      );
      if (ctx.json) return printJson(page);
      printTable(HEAD, [row(page.dataset)]);
      if (page.examples.length > 0) {
        printTable(["example", "text"], page.examples.map((e) => [e.id, preview(e)]));
      }
    });

  datasets.command("upload")
    .description('upload JSONL: one {"id"?, "text"} or {"id"?, "prompt", "completion"} a line')
    .argument("<file>", "JSONL file")
    .option("--name <name>", "dataset name (default: the file's name)")
    .action(async (path: string, options, command: Command) => {
      const ctx = contextOf(command);
      const size = await fileSize(path);
      const file = await Deno.open(path);
      const bar = progressBar("upload dataset", !ctx.json);
      let dataset: Dataset;
      try {
        dataset = await ctx.client.json<Dataset>("POST", "/v1/datasets", {
          query: { name: options.name ?? stem(path) },
          body: counted(file.readable, size, bar),
          headers: { "content-type": "application/x-ndjson" },
        });
      } finally {
        bar.stop();
      }
      if (ctx.json) return printJson(dataset);
      printTable(HEAD, [row(dataset)]);
    });

  datasets.command("delete")
    .argument("<dataset>", "dataset id or name")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/datasets/${encodeURIComponent(id)}`);
      if (ctx.json) printJson({ deleted: [id] });
      else console.log(`deleted dataset ${id}`);
    });

  return datasets;
}
