// simfluence models list|show|create|upload|delete
import { Command } from "commander";
import { basename, join } from "node:path";
import { contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { integer } from "../ids.ts";
import { note, num, pageNote, printJson, printTable } from "../output.ts";
import { progressBar } from "../progress.ts";
import { counted, fileSize, readJsonFile } from "../upload.ts";

interface Model {
  id: string;
  name: string | null;
  config: Record<string, unknown>;
  tokenizer: string;
  parameters: number;
  source: string;
  createdAt: string;
}

const HEAD = ["id", "name", "layers", "width", "parameters", "tokenizer", "source", "created"];
const row = (m: Model) => [
  m.id,
  m.name ?? "-",
  String(m.config.n_layer ?? "-"),
  String(m.config.n_embd ?? "-"),
  num(m.parameters),
  m.tokenizer,
  m.source,
  m.createdAt.slice(0, 19),
];

export function modelsCommand(): Command {
  const models = new Command("models").description("GPT-2-architecture models");

  models.command("list")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ models: Model[]; total: number }>("/v1/models", {
        limit: options.limit,
        offset: options.offset,
      });
      if (ctx.json) return printJson(page);
      printTable(HEAD, page.models.map(row));
      note(`models ${pageNote(page.models.length, options.offset, page.total)}`);
    });

  models.command("show")
    .argument("<model>", "model id or name")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const model = await ctx.client.get<Model>(`/v1/models/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson(model);
      printTable(HEAD, [row(model)]);
    });

  models.command("create")
    .description("a randomly initialised model from a Hugging Face GPT-2 config.json")
    .requiredOption("--config <file>", "config.json")
    .option("--seed <n>", "initialisation seed", integer, 0)
    .option("--name <name>", "model name")
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const model = await ctx.client.post<Model>("/v1/models", {
        config: await readJsonFile(options.config),
        seed: options.seed,
        ...(options.name ? { name: options.name } : {}),
      });
      if (ctx.json) return printJson(model);
      printTable(HEAD, [row(model)]);
    });

  models.command("upload")
    .description("upload a checkpoint folder: model.safetensors, config.json, tokenizer.json?")
    .argument("<folder>", "folder in Hugging Face's GPT-2 layout")
    .option("--name <name>", "model name (default: the folder's)")
    .action(async (folder: string, options, command: Command) => {
      const ctx = contextOf(command);
      const form = new FormData();
      form.set("name", options.name ?? basename(folder.replace(/\/+$/, "")));
      let total = 0;
      for (const file of ["model.safetensors", "config.json", "tokenizer.json"]) {
        const path = join(folder, file);
        const optional = file === "tokenizer.json";
        const exists = await Deno.stat(path).then(() => true, () => false);
        if (!exists) {
          if (optional) continue;
          throw usageError(`${folder} has no ${file}`);
        }
        total += await fileSize(path);
        form.set(file, new File([await Deno.readFile(path)], file));
      }
      const framed = new Request("http://localhost/", { method: "POST", body: form });
      const bar = progressBar("upload model", !ctx.json);
      let model: Model;
      try {
        model = await ctx.client.json<Model>("POST", "/v1/models", {
          body: counted(framed.body!, total, bar),
          headers: { "content-type": framed.headers.get("content-type")! },
        });
      } finally {
        bar.stop();
      }
      if (ctx.json) return printJson(model);
      printTable(HEAD, [row(model)]);
    });

  models.command("delete")
    .argument("<model>", "model id or name")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/models/${encodeURIComponent(id)}`);
      if (ctx.json) printJson({ deleted: [id] });
      else console.log(`deleted model ${id}`);
    });

  return models;
}
