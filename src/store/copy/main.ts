// deno task store:copy --from <data dir> --to <postgres URL> --blobs <file:///… | s3://…>
// The operator's entry to store_copy.ts: parses the flags (commander, as the CLI does), prints
// progress on stderr and a summary on stdout, and exits 0 when the copy is complete, 1 when it
// failed or was refused (one message, no stack trace), 2 on bad usage, 130 when interrupted.
import { Command, CommanderError } from "commander";
import { existsSync, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { BLOB_ENV_VARS, openBlobStore, parseBlobSettings } from "../blobs/select.ts";
import type { BlobStore } from "../blobs/blob_store.ts";
import { localBlobStore } from "../blobs/select.ts";
import { CopyError, CopyInterruptedError } from "./copy_error.ts";
import { type CopyEvent, copyStore, type CopySummary } from "./store_copy.ts";

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

class UsageError extends Error {
  override name = "UsageError";
}

interface Flags {
  from: string;
  to: string;
  blobs: string;
  sourceBlobs?: string;
  batchRows: string;
}

const HELP_AFTER = `
Copies a single-node store (the SQLite file simfluence.db and its tensor files) into a cluster's
PostgreSQL database and shared blob store. Stop the single node first. The target database must be
empty (its schema is created), or hold this same copy unfinished, which is then resumed: run the
same command again after an interruption. Every tensor file is checked against its recorded
SHA-256 before it is written and after it is read back, and every table is compared with the
source at the end.

--blobs is required: a cluster's nodes share one blob store (SIMFLUENCE_BLOB_URL), never a node's
own folder. To leave the tensors where they are (the data directory is already on a shared mount),
name that folder: --blobs file:///<data dir>/tensors. For s3://, the credentials and endpoint come
from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and
SIMFLUENCE_S3_ENDPOINT (or AWS_ENDPOINT_URL), as for the nodes.

Exit codes: 0 copied (or already copied), 1 failed or refused, 2 usage, 130 interrupted.
See docs/deploy.md.`;

function buildProgram(run: (flags: Flags) => Promise<void>): Command {
  return new Command("store:copy")
    .description("Copy a single-node store into a cluster (PostgreSQL and a shared blob store)")
    .requiredOption("--from <dir>", "the single node's data directory (SIMFLUENCE_DATA_DIR)")
    .requiredOption("--to <url>", "the cluster's PostgreSQL, postgres://user@host:5432/db")
    .requiredOption("--blobs <url>", "the cluster's blob store, file:///path or s3://bucket/prefix")
    .option(
      "--source-blobs <url>",
      "where the single node kept its tensors, if it had SIMFLUENCE_BLOB_URL set " +
        "(default: <from>/tensors)",
    )
    .option("--batch-rows <n>", "rows per committed batch", "500")
    .addHelpText("after", HELP_AFTER)
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .action((flags: Flags) => run(flags));
}

/** The URL with its password, if any, replaced: safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError("--to: expected a URL such as postgres://user@host:5432/database");
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new UsageError(
      `--to: expected a postgres:// or postgresql:// URL (got ${parsed.protocol}//…)`,
    );
  }
}

/** A blob store named like SIMFLUENCE_BLOB_URL, with the S3 variables from the environment. */
function blobStoreFor(flag: string, url: string, dataDir: string): BlobStore {
  const env: Record<string, string | undefined> = {};
  for (const name of BLOB_ENV_VARS) env[name] = Deno.env.get(name);
  env.SIMFLUENCE_BLOB_URL = url;
  const parsed = parseBlobSettings(env);
  if (parsed.settings === null) {
    throw new UsageError(
      parsed.problems.map((p) =>
        `${p.variable === "SIMFLUENCE_BLOB_URL" ? flag : p.variable}: ${p.message}`
      ).join("\n"),
    );
  }
  return openBlobStore(parsed.settings, dataDir);
}

function checkFrom(from: string): string {
  const dir = isAbsolute(from) ? from : resolve(from);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(`--from: ${dir} is not a directory`);
  }
  return dir;
}

function progressPrinter(): (event: CopyEvent) => void {
  let lastLine = 0;
  const say = (line: string) => console.error(line);
  return (event) => {
    switch (event.kind) {
      case "start":
        say(
          `${event.resumed ? "resuming the copy of" : "copying"} ${
            event.tables.map((t) => `${t.name} (${t.rows})`).join(", ")
          }`,
        );
        break;
      case "table": {
        const finished = event.copied >= event.total;
        // A line per table when it is done, and every 2 s on long ones.
        if (finished || Date.now() - lastLine > 2_000) {
          lastLine = Date.now();
          say(`  ${event.table}: ${event.copied}/${event.total} rows`);
        }
        break;
      }
      case "verified":
        say(`  verified ${event.table}: ${event.rows} rows equal to the source's`);
        break;
      case "finished":
        if (event.interruptedJobs > 0) {
          say(
            `  ${event.interruptedJobs} job(s) the single node left queued or running were ` +
              "marked failed (interrupted), as its next start would have; resume them from any node",
          );
        }
        break;
    }
  };
}

function printSummary(summary: CopySummary, to: string): void {
  if (summary.alreadyComplete) {
    console.log(`already copied: ${redactUrl(to)} holds a complete copy of this store`);
    return;
  }
  const rows = summary.tables.reduce((n, t) => n + t.rows, 0);
  const { written, alreadyThere, bytes } = summary.tensorFiles;
  console.log(
    `copied ${rows} rows in ${summary.tables.length} tables and ${
      written + alreadyThere
    } tensor files (${bytes} bytes; ${alreadyThere} already in place) to ${redactUrl(to)}` +
      (summary.resumed ? " (resumed)" : ""),
  );
}

export async function main(args: string[], signal?: AbortSignal): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(async (flags) => {
    const from = checkFrom(flags.from);
    checkPostgresUrl(flags.to);
    if (!/^\d+$/.test(flags.batchRows) || Number(flags.batchRows) < 1) {
      throw new UsageError(`--batch-rows: expected a whole number ≥ 1 (got ${flags.batchRows})`);
    }
    const targetBlobs = blobStoreFor("--blobs", flags.blobs, from);
    const sourceBlobs = flags.sourceBlobs === undefined
      ? localBlobStore(from)
      : blobStoreFor("--source-blobs", flags.sourceBlobs, from);
    const summary = await copyStore({
      from,
      to: flags.to,
      sourceBlobs,
      targetBlobs,
      batchRows: Number(flags.batchRows),
      signal,
      onProgress: progressPrinter(),
    });
    printSummary(summary, flags.to);
  });
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has printed the message, or the help.
      const benign = ["commander.helpDisplayed", "commander.help", "commander.version"];
      code = benign.includes(e.code) || e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n(add --help for usage)`);
      code = EXIT.usage;
    } else if (e instanceof CopyInterruptedError) {
      console.error(`store:copy ${e.message}`);
      code = EXIT.interrupted;
    } else if (e instanceof CopyError) {
      console.error(`error: ${e.message}`);
      code = EXIT.failed;
    } else {
      // Unexpected (a lost connection, a full disk): the message, not the stack.
      console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
      console.error("what was committed stays; run the same command again to resume");
      code = EXIT.failed;
    }
  }
  return code;
}

if (import.meta.main) {
  // `deno task` runs in the repository root; paths are relative to where it was typed.
  const typedIn = Deno.env.get("INIT_CWD");
  if (typedIn) Deno.chdir(typedIn);
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => {
    if (controller.signal.aborted) Deno.exit(EXIT.interrupted);
    console.error("stopping after the current step (Ctrl-C again to quit at once)…");
    controller.abort();
  });
  Deno.exit(await main(Deno.args, controller.signal));
}
