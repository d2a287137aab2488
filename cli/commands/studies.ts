// simfluence studies list|show|delete. Where the service has no /v1/studies (older versions) the
// list is gathered from the runs.
import { Command } from "commander";
import { type Context, contextOf } from "../context.ts";
import { ServerError } from "../errors.ts";
import { integer } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";
import type { Run } from "./runs.ts";

interface Study {
  name: string;
  testExamples?: string[];
  runs: number;
  simulators?: number;
  updatedAt?: string;
}

async function studiesFromRuns(ctx: Context): Promise<Study[]> {
  const runs = await ctx.client.all<Run>("/v1/runs", "runs");
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.study, (counts.get(r.study) ?? 0) + 1);
  return [...counts].map(([name, n]) => ({ name, runs: n }));
}

const HEAD = ["study", "runs", "simulators", "test examples", "last run stored"];
const row = (s: Study) => [
  s.name,
  s.runs,
  s.simulators ?? "-",
  s.testExamples?.length ?? "-",
  s.updatedAt?.slice(0, 19) ?? "-",
];

export function studiesCommand(): Command {
  const studies = new Command("studies").description(
    "studies (named sets of runs): list, show, delete",
  );

  studies.command("list")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      let page: { studies: Study[]; total: number };
      try {
        page = await ctx.client.get("/v1/studies", {
          limit: options.limit,
          offset: options.offset,
        });
      } catch (e) {
        if (!(e instanceof ServerError && e.status === 404)) throw e;
        const all = await studiesFromRuns(ctx);
        page = {
          studies: all.slice(options.offset, options.offset + options.limit),
          total: all.length,
        };
      }
      if (ctx.json) return printJson({ ...page, limit: options.limit, offset: options.offset });
      printTable(HEAD, page.studies.map(row));
      note(`studies ${pageNote(page.studies.length, options.offset, page.total)}`);
    });

  studies.command("show")
    .description("a study and its test examples")
    .argument("<study>", "study name")
    .action(async (name: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const study = await ctx.client.get<Study>(`/v1/studies/${encodeURIComponent(name)}`);
      if (ctx.json) return printJson(study);
      printTable(HEAD, [row(study)]);
      if (study.testExamples?.length) {
        console.log(`test examples: ${study.testExamples.join(", ")}`);
      }
    });

  studies.command("delete")
    .description("delete a study with its runs, their checkpoints and its simulators")
    .argument("<study>", "study name")
    .action(async (name: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const deleted = await ctx.client.json<Record<string, unknown>>(
        "DELETE",
        `/v1/studies/${encodeURIComponent(name)}`,
      );
      if (ctx.json) return printJson(deleted ?? { study: name });
      const counts = deleted ? ` (${deleted.runs} runs, ${deleted.simulators} simulators)` : "";
      console.log(`deleted study ${name}${counts}`);
    });

  return studies;
}
