// A GPTfluence run folder as one zip archive (what GET /v1/runs/:id?format=gptfluence exports), read
// back for import. Archives are hostile until proven otherwise: the sizes a zip declares are not
// trusted; the two files are inflated as a stream, fed a small slice of the archive at a time, with
// a running total of the bytes produced, so a zip bomb stops at the limit having used about that
// much memory, whatever ratio it was built with.
import { Unzip, type UnzipFile, UnzipInflate } from "fflate";
import { DomainError, InvalidInputError } from "../errors.ts";
import { LOSS_FILE, TRAIN_FILE } from "./gptfluence_format.ts";

/** Archive bytes fed to the inflater at once: deflate expands 1 KiB to at most ~1 MiB. */
const SLICE_BYTES = 1024;
/** More entries than this is not a run folder. */
export const MAX_ARCHIVE_ENTRIES = 64;

function invalidArchive(message: string, details: Record<string, unknown> = {}) {
  return new InvalidInputError(
    `archive: ${message}`,
    { field: "archive", ...details },
    "invalid_archive",
  );
}

function tooLarge(maxBytes: number) {
  return new DomainError(
    "too_large",
    "archive_too_large",
    `archive: its files inflate to more than ${maxBytes} bytes`,
    { field: "archive", limitBytes: maxBytes },
  );
}

/**
 * The texts of train_samples_id.json and all_loss_trajectory.out in a zip (at its top level or in
 * one folder). 413 once the inflated files pass `maxBytes`; 400 for anything else wrong.
 */
export function readGptfluenceArchive(
  archive: Uint8Array,
  maxBytes: number,
): { trainSamples: string; losses: string } {
  const parts = new Map<string, Uint8Array[]>();
  let produced = 0;
  let entries = 0;
  let failure: DomainError | null = null;
  const fail = (error: DomainError, file?: UnzipFile) => {
    failure ??= error;
    file?.terminate();
  };

  const unzip = new Unzip((file) => {
    if (failure) return;
    if (++entries > MAX_ARCHIVE_ENTRIES) {
      return fail(invalidArchive(`more than ${MAX_ARCHIVE_ENTRIES} entries`));
    }
    const base = file.name.slice(file.name.lastIndexOf("/") + 1);
    const wanted = base === TRAIN_FILE || base === LOSS_FILE;
    if (wanted && parts.has(base)) {
      return fail(invalidArchive(`${base} appears twice`, { file: base }));
    }
    const chunks: Uint8Array[] = [];
    if (wanted) parts.set(base, chunks);
    // Every entry's bytes count, even an unwanted one that fflate decides to pass through.
    file.ondata = (error, chunk) => {
      if (error) return fail(invalidArchive(`${file.name}: ${error.message}`), file);
      produced += chunk.length;
      if (produced > maxBytes) return fail(tooLarge(maxBytes), file);
      if (wanted) chunks.push(chunk);
    };
    if (!wanted) return;
    try {
      file.start();
    } catch (e) {
      fail(invalidArchive(`${file.name}: ${(e as Error).message}`, { file: base }));
    }
  });
  unzip.register(UnzipInflate);
  try {
    for (let at = 0; at < archive.length && !failure; at += SLICE_BYTES) {
      const end = Math.min(at + SLICE_BYTES, archive.length);
      unzip.push(archive.subarray(at, end), end === archive.length);
    }
  } catch (e) {
    fail(invalidArchive(`not a readable zip archive (${(e as Error).message})`));
  }
  if (failure) throw failure;
  const text = (name: string) => {
    const chunks = parts.get(name);
    if (!chunks) throw invalidArchive(`${name} is missing`, { file: name });
    return new TextDecoder().decode(concat(chunks));
  };
  return { trainSamples: text(TRAIN_FILE), losses: text(LOSS_FILE) };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
