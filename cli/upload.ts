// Request bodies from local files that count their bytes as fetch reads them, so a progress bar
// can follow a big upload.
import { basename } from "node:path";
import { usageError } from "./errors.ts";
import type { Bar } from "./progress.ts";
import { bytes } from "./output.ts";

export async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (e) {
    throw usageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

export async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    throw usageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

export async function readJsonFile(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw usageError(`${path} is not JSON: ${(e as Error).message}`);
  }
}

/** A file's name without its last extension: the default run or dataset name. */
export function stem(path: string): string {
  const name = basename(path.replace(/\/+$/, ""));
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

/** Passes `source` through, reporting bytes read so far against `total`. */
export function counted(
  source: ReadableStream<Uint8Array>,
  total: number,
  bar: Bar,
): ReadableStream<Uint8Array> {
  let sent = 0;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        bar.update(Math.min(sent, total), total, `${bytes(sent)} of ${bytes(total)}`);
        controller.enqueue(chunk);
      },
    }),
  );
}

/** Bytes in chunks of 1 MiB, so the bar moves while a JSON body goes out. */
export function chunked(data: Uint8Array): ReadableStream<Uint8Array> {
  const size = 1 << 20;
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.byteLength) return controller.close();
      controller.enqueue(data.subarray(offset, offset + size));
      offset += size;
    },
  });
}

/**
 * An NDJSON file whose first line (the header: study, name, test examples) gets `patch` applied;
 * the rest streams through unread.
 */
export async function patchedNdjson(
  path: string,
  patch: (header: Record<string, unknown>) => void,
): Promise<ReadableStream<Uint8Array>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (e) {
    throw usageError(`cannot read ${path}: ${(e as Error).message}`);
  }
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let head = new Uint8Array(0);
  let patched = false;
  const patchLine = (line: Uint8Array): Uint8Array => {
    const text = decoder.decode(line);
    try {
      const header = JSON.parse(text);
      if (header === null || typeof header !== "object" || Array.isArray(header)) return line;
      patch(header);
      return encoder.encode(JSON.stringify(header));
    } catch {
      return line; // the service names line 1 in its error
    }
  };
  return file.readable.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (patched) return controller.enqueue(chunk);
        const joined = new Uint8Array(head.byteLength + chunk.byteLength);
        joined.set(head);
        joined.set(chunk, head.byteLength);
        const newline = joined.indexOf(10);
        if (newline < 0) {
          head = joined;
          return;
        }
        controller.enqueue(patchLine(joined.subarray(0, newline)));
        controller.enqueue(joined.subarray(newline));
        patched = true;
      },
      flush(controller) {
        if (!patched && head.byteLength > 0) controller.enqueue(patchLine(head));
      },
    }),
  );
}
