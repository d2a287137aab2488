// simfluence studies list|delete. Studies are the runs' `study` names; where the service has no
// /v1/studies (older versions) the list is gathered from the runs.
import { Command } from "commander";
import { contextOf } from "../context.ts";
import { ServerError } from "../errors.ts";
import { integer } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";
import type { Run } from "./runs.ts";

interface StudyRow {
  [key: string]: unknown;
  name?: string;
  id?: string;
  runs?: number;
}

async function studiesFromRuns(client: ReturnType<typeof contextOf>["client"]) {
  const runs = await client.all<Run>("/v1/runs", "runs");
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.study, (counts.get(r.study) ?? 0) + 1);
  return [...counts].map(([name, n]) => ({ name, runs: n }));
}

export function studiesCommand(): Command {
  const studies = new Command("studies").description("studies (named sets of runs): list, delete");

  studies.command("list")
    .option("--limit <n>", "page size", integer, 50)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      let page: { studies: StudyRow[]; total: number };
      try {
        page = await ctx.client.get("/v1/studies", {
          limit: options.limit,
          offset: options.offset,
        });
      } catch (e) {
        if (!(e instanceof ServerError && e.status === 404)) throw e;
        const all = await studiesFromRuns(ctx.client);
        page = {
          studies: all.slice(options.offset, options.offset + options.limit),
          total: all.length,
        };
      }
      if (ctx.json) return printJson({ ...page, limit: options.limit, offset: options.offset });
      const keys = ["id", "name", "runs", "simulators", "createdAt"].filter((k) =>
        page.studies.some((s) => s[k] !== undefined)
      );
      printTable(keys, page.studies.map((s) => keys.map((k) => String(s[k] ?? "-"))));
      note(`studies ${pageNote(page.studies.length, options.offset, page.total)}`);
    });

  studies.command("delete")
    .argument("<study>", "study name or id")
    .option("--force", "also delete runs that simulators were fitted on")
    .action(async (study: string, options, command: Command) => {
      const ctx = contextOf(command);
      await ctx.client.delete(`/v1/studies/${encodeURIComponent(study)}`, {
        force: options.force ? "true" : undefined,
      });
      if (ctx.json) printJson({ deleted: [study] });
      else console.log(`deleted study ${study}`);
    });

  return studies;
}
