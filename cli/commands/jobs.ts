// simfluence jobs list|show|cancel|follow
import { Command, Option } from "commander";
import { contextOf } from "../context.ts";
import { followJob, type Job, progressText, requireSucceeded } from "../follow.ts";
import { integer } from "../ids.ts";
import { note, pageNote, printJson, printTable } from "../output.ts";

export function printJob(job: Job): void {
  const rows: [string, string][] = [
    ["job", job.id],
    ["kind", job.kind],
    ["status", job.status],
    [
      "progress",
      job.progress
        ? `${Math.round(job.progress.fraction * 100)}% ${progressText(job.progress)}`
        : "-",
    ],
    ["created", job.createdAt],
    ["finished", job.finishedAt ?? "-"],
  ];
  if (job.error) rows.push(["error", job.error]);
  if (job.result !== null && job.result !== undefined) {
    const result = JSON.stringify(job.result);
    rows.push([
      "result",
      result.length > 100 ? `${result.slice(0, 99)}… (--json shows all)` : result,
    ]);
  }
  printTable(["field", "value"], rows);
}

export function jobsCommand(): Command {
  const jobs = new Command("jobs").description(
    "background jobs: list, show, cancel, follow, resume",
  );

  jobs.command("list")
    .description("jobs, newest first")
    .addOption(
      new Option("--status <status>", "only jobs in this state")
        .choices(["queued", "running", "succeeded", "failed", "cancelled"]),
    )
    .option("--kind <kind>", "only jobs of this kind")
    .option("--limit <n>", "page size", integer, 20)
    .option("--offset <n>", "skip this many", integer, 0)
    .action(async (options, command: Command) => {
      const ctx = contextOf(command);
      const page = await ctx.client.get<{ jobs: Job[]; total: number }>("/v1/jobs", {
        status: options.status,
        kind: options.kind,
        limit: options.limit,
        offset: options.offset,
      });
      if (ctx.json) return printJson(page);
      printTable(
        ["id", "kind", "status", "progress", "created"],
        page.jobs.map((j) => [
          j.id,
          j.kind,
          j.status,
          j.progress ? `${Math.round(j.progress.fraction * 100)}% ${j.progress.phase}` : "-",
          j.createdAt.slice(0, 19),
        ]),
      );
      note(`jobs ${pageNote(page.jobs.length, options.offset, page.total)}`);
    });

  jobs.command("show")
    .argument("<job>", "job id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const job = await ctx.client.get<Job>(`/v1/jobs/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson(job);
      printJob(job);
    });

  jobs.command("cancel")
    .argument("<job>", "job id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const job = await ctx.client.json<Job>("DELETE", `/v1/jobs/${encodeURIComponent(id)}`);
      if (ctx.json) return printJson(job);
      console.log(
        job.status === "cancelled" ? `job ${id} cancelled` : `job ${id}: cancellation requested`,
      );
    });

  jobs.command("follow")
    .description("show a job's progress until it ends; exit 1 unless it succeeded")
    .argument("<job>", "job id")
    .action(async (id: string, _options, command: Command) => {
      const ctx = contextOf(command);
      const job = await followJob(ctx, id, `job ${id.slice(0, 8)}`);
      if (ctx.json) printJson(job);
      else printJob(job);
      requireSucceeded(job);
    });

  jobs.command("resume")
    .description("start a failed or cancelled job again as a new job (and follow it)")
    .argument("<job>", "job id")
    .option("--no-follow", "print the new job's id and return at once")
    .action(async (id: string, options, command: Command) => {
      const ctx = contextOf(command);
      const started = await ctx.client.post<{ job: string; resumes: string }>(
        `/v1/jobs/${encodeURIComponent(id)}/resume`,
        {},
      );
      if (!options.follow) {
        if (ctx.json) return printJson(started);
        return console.log(`job ${started.job} resumes job ${id}`);
      }
      const job = await followJob(ctx, started.job, `job ${started.job.slice(0, 8)}`);
      if (ctx.json) printJson(job);
      else printJob(job);
      requireSucceeded(job);
    });

  return jobs;
}
