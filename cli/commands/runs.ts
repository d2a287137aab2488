// simfluence runs upload|list|show|export|delete
import { Command, Option } from "commander";
import { basename, join } from "node:path";
import { type Context, contextOf } from "../context.ts";
import { usageError } from "../errors.ts";
import { integer, list, onNamedRuns, runIds } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";
import { progressBar } from "../progress.ts";
import { csvRow, formatOf, openOutput } from "../csv.ts";
import { chunked, counted, fileSize, patchedNdjson, readJsonFile, stem } from "../upload.ts";

export interface Run {
  id: string;
  study: string;
  name: string;
  steps: number;
  testExamples: number;
  distinctTrainExamples: number;
  source: string;
  createdAt: string;
}

const TRAIN_FILE = "train_samples_id.json";
const LOSS_FILE = "all_loss_trajectory.out";

type Upload =
  | { format: "json"; path: string }
  | { format: "ndjson"; path: string }
  | { format: "gptfluence"; train: string; losses: string; name: string }
  | { format: "archive"; path: string };

/** What each argument is: a JSON or NDJSON run, or a GPTfluence pair (a folder, or both files). */
export async function planUploads(paths: string[], format?: string): Promise<Upload[]> {
  const uploads: Upload[] = [];
  const pair: Record<string, string> = {};
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = (await Deno.stat(path)).isDirectory;
    } catch (e) {
      throw usageError(`cannot read ${path}: ${(e as Error).message}`);
    }
    const name = basename(path);
    if (isDir) {
      uploads.push({
        format: "gptfluence",
        train: join(path, TRAIN_FILE),
        losses: join(path, LOSS_FILE),
        name: basename(path.replace(/\/+$/, "")),
      });
    } else if (/\.zip$/i.test(name)) {
      uploads.push({ format: "archive", path });
    } else if (format === "gptfluence" || name === TRAIN_FILE || name === LOSS_FILE) {
      pair[name === LOSS_FILE || name.endsWith(".out") ? "losses" : "train"] = path;
    } else {
      const ndjson = format === "ndjson" ||
        (format === undefined && /\.(ndjson|jsonl)$/i.test(name));
      uploads.push(ndjson ? { format: "ndjson", path } : { format: "json", path });
    }
  }
  if (pair.train || pair.losses) {
    if (!pair.train || !pair.losses) {
      throw usageError(`a GPTfluence run needs both ${TRAIN_FILE} and ${LOSS_FILE}`);
    }
    uploads.push({
      format: "gptfluence",
      train: pair.train,
      losses: pair.losses,
      name: basename(join(pair.train, "..")),
    });
  }
  return uploads;
}

async function uploadOne(
  ctx: Context,
  upload: Upload,
  options: { study?: string; name?: string },
): Promise<Run> {
  const label = upload.format === "gptfluence" ? upload.train : upload.path;
  const runName = upload.format === "gptfluence" ? upload.name : stem(label);
  const bar = progressBar(`upload ${basename(label)}`, !ctx.json);
  try {
    if (upload.format === "json") {
      const run = await readJsonFile(upload.path) as Record<string, unknown>;
      if (run === null || typeof run !== "object" || Array.isArray(run)) {
        throw usageError(`${upload.path}: a JSON run is an object`);
      }
      if (options.study !== undefined) run.study = options.study;
      run.name = options.name ?? run.name ?? stem(upload.path);
      const data = new TextEncoder().encode(JSON.stringify(run));
      return await ctx.client.json<Run>("POST", "/v1/runs", {
        body: counted(chunked(data), data.byteLength, bar),
        headers: { "content-type": "application/json" },
      });
    }
    if (upload.format === "ndjson") {
      const body = await patchedNdjson(upload.path, (header) => {
        if (options.study !== undefined) header.study = options.study;
        header.name = options.name ?? header.name ?? stem(upload.path);
      });
      return await ctx.client.json<Run>("POST", "/v1/runs", {
        body: counted(body, await fileSize(upload.path), bar),
        headers: { "content-type": "application/x-ndjson" },
      });
    }
    if (options.study === undefined) throw usageError("a GPTfluence run needs --study");
    const form = new FormData();
    form.set("study", options.study);
    form.set("name", options.name ?? runName);
    // The two files, or the zip `runs export --format gptfluence` writes.
    const files: [string, string][] = upload.format === "archive"
      ? [["archive", upload.path]]
      : [[TRAIN_FILE, upload.train], [LOSS_FILE, upload.losses]];
    let total = 0;
    for (const [field, path] of files) {
      total += await fileSize(path);
      form.set(field, new File([await Deno.readFile(path)], basename(path)));
    }
    // Let fetch frame the multipart body, then count it as it leaves.
    const framed = new Request("http://localhost/", { method: "POST", body: form });
    return await ctx.client.json<Run>("POST", "/v1/runs/import", {
      body: counted(framed.body!, total, bar),
      headers: { "content-type": framed.headers.get("content-type")! },
    });
  } finally {
    bar.stop();
  }
}

const RUN_HEAD = ["id", "study", "name", "steps", "tests", "train ids", "source", "created"];
function runRow(r: Run): (string | number)[] {
  return [
    r.id,
    r.study,
    r.name,
    r.steps,
    r.testExamples,
    r.distinctTrainExamples,
    r.source,
    r.createdAt.slice(0, 19),
  ];
}

export function runsCommand(): Command {
  const runs = new Command("runs").description(
    "training runs: upload, list, show, export, trajectories, delete",
  );

  runs.command("upload")
    .description(
      "upload runs: JSON, NDJSON (.ndjson/.jsonl), GPTfluence pairs (a folder) or zips",
    )
    .argument("<files...>", "run files, or GPTfluence folders, file pairs or .zip archives")
    .option("--study <study>", "study to store the runs in (overrides the file's)")
    .option("--name <name>", "run name (one run only; default: the file's, or its file name)")
    .addOption(
      new Option("--format <format>", "force a format").choices(["json", "ndjson", "gptfluence"]),
    )
    .action(async (files: string[], options, command: Command) => {
      const ctx = contextOf(command);
      const uploads = await planUploads(files, options.format);
      if (options.name && uploads.length > 1) throw usageError("--name needs exactly one run");
      const stored: Run[] = [];
      try {
        for (const upload of uploads) stored.push(await uploadOne(ctx, upload, options));
      } finally {
        if (ctx.json) printJson({ runs: stored });
        else if (stored.length > 0) printTable(RUN_HEAD, stored.map(runRow));
      }
    });

  runs.command("list")
    .description("list runs, oldest first")
    .option("--study <study>", "only this study's runs")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ runs: Run[]; total: number }>("/v1/runs", {
        study: options.study,
        limit: options.limit,
        offset: options.offset,
      });
      if (ctx.json) return printJson(page);
      printTable(RUN_HEAD, page.runs.map(runRow));
      note(`runs ${pageNote(page.runs.length, options.offset, page.total)}`);
    });

  runs.command("show")
    .description("one run's metadata")
    .argument("<run>", "run id (or name, with --study)")
    .option("--study <study>", "resolve the run by name in this study")
    .action(async (ref: string, options, command: Command) => {
      const ctx = contextOf(command);
      const [id] = await runIds(ctx, options.study, [ref]);
      const run = await onNamedRuns(
        options.study,
        () => ctx.client.get<Run>(`/v1/runs/${encodeURIComponent(id)}`),
      );
      if (ctx.json) return printJson(run);
      printTable(RUN_HEAD, [runRow(run)]);
    });

  runs.command("export")
    .description("download a run as JSON, NDJSON or a GPTfluence zip")
    .argument("<run>", "run id (or name, with --study)")
    .option("--study <study>", "resolve the run by name in this study")
    .addOption(
      new Option("--format <format>", "file format").choices(["json", "ndjson", "gptfluence"])
        .default("json"),
    )
    .option("-o, --output <file>", "write here instead of stdout")
    .action(async (ref: string, options, command: Command) => {
      const ctx = contextOf(command);
      const [id] = await runIds(ctx, options.study, [ref]);
      const response = await onNamedRuns(
        options.study,
        () =>
          ctx.client.request("GET", `/v1/runs/${encodeURIComponent(id)}`, {
            query: { format: options.format },
          }),
      );
      const data = new Uint8Array(await response.arrayBuffer());
      if (options.output) {
        await Deno.writeFile(options.output, data);
        if (!ctx.json) note(`wrote ${options.output}`);
        else printJson({ run: id, format: options.format, output: options.output });
      } else {
        await Deno.stdout.write(data);
      }
    });

  runs.command("trajectories")
    .description("a run's observed losses, CSV (t, one column per test example) or JSON")
    .argument("<run>", "run id (or name, with --study)")
    .option("--study <study>", "resolve the run by name in this study")
    .option("--tests <ids>", "only these test examples", list)
    .addOption(new Option("--format <format>", "output format (default: csv, or json with --json)")
      .choices(["csv", "json"]))
    .option("-o, --output <file>", "write here instead of stdout (format from .csv/.json)")
    .action(async (ref: string, options, command: Command) => {
      const ctx = contextOf(command);
      const [id] = await runIds(ctx, options.study, [ref]);
      const answer = await onNamedRuns(
        options.study,
        () =>
          ctx.client.get<{ steps: number; trajectories: Record<string, number[]> }>(
            `/v1/runs/${encodeURIComponent(id)}/trajectories`,
            { tests: options.tests?.join(",") },
          ),
      );
      const out = await openOutput(options.output);
      try {
        if (formatOf(options, ctx.json) === "json") {
          await out.write(JSON.stringify(answer, null, 2) + "\n");
        } else {
          const tests = Object.keys(answer.trajectories);
          await out.write(csvRow(["t", ...tests]));
          for (let t = 0; t <= answer.steps; t++) {
            await out.write(csvRow([t, ...tests.map((z) => answer.trajectories[z][t])]));
          }
        }
      } finally {
        await out.close();
      }
    });

  runs.command("delete")
    .description("delete runs with their losses and checkpoints")
    .argument("<runs...>", "run ids (or names, with --study)")
    .option("--study <study>", "resolve runs by name in this study")
    .option("--force", "also delete runs that simulators were fitted on")
    .action(async (refs: string[], options, command: Command) => {
      const ctx = contextOf(command);
      const ids = await runIds(ctx, options.study, list(refs.join(",")));
      const deleted: string[] = [];
      try {
        for (const id of ids) {
          await onNamedRuns(
            options.study,
            () =>
              ctx.client.delete(`/v1/runs/${encodeURIComponent(id)}`, {
                force: options.force ? "true" : undefined,
              }),
          );
          deleted.push(id);
          if (!ctx.json) console.log(`deleted run ${id}`);
        }
      } finally {
        if (ctx.json) printJson({ deleted });
      }
    });

  return runs;
}
