// Delivers an event log (events kept in order, shared by every watcher) to one SSE client with
// bounded memory: the watcher holds only a cursor and the one chunk it is writing (at most
// MAX_CHUNK_BYTES of events), and a client whose socket stays full — it stopped reading — for
// `stallMs` is disconnected instead of buffered for. It can reconnect with Last-Event-ID.
import type { SSEStreamingApi } from "hono/streaming";
import { eventBody, type SseEvent } from "./sse.ts";

// Event i of a log has id i whoever reads it, so each event is encoded once, id line included, and
// every watcher's chunk is a copy of those bytes: no per-watcher formatting or encoding.
const encoded = new WeakMap<SseEvent, Uint8Array>();
const encoder = new TextEncoder();

function encodedEvent(event: SseEvent, id: number): Uint8Array {
  let bytes = encoded.get(event);
  if (bytes === undefined) {
    bytes = encoder.encode(`id: ${id}\n${eventBody(event)}\n`);
    encoded.set(event, bytes);
  }
  return bytes;
}

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface EventLog {
  /** Events so far; event i has SSE id i. */
  readonly length: number;
  /** No event will be added. */
  readonly finished: boolean;
  at(index: number): SseEvent;
  /** Calls `wake` after every change (new events, finished); returns the unsubscribe. */
  onChange(wake: () => void): () => void;
}

export interface PumpOptions {
  /** The first event to send (Last-Event-ID + 1 on a reconnect). */
  from: number;
  keepAliveMs: number;
  stallMs: number;
}

export type PumpOutcome = "finished" | "client_closed" | "stalled";

const MAX_CHUNK_BYTES = 64 * 1024;
const MAX_CHUNK_EVENTS = 1024;
const COALESCE_MS = 25;

/** Writes `text`, or drops the client when the write has not gone through after `stallMs`. */
export async function writeOrDrop(
  stream: SSEStreamingApi,
  text: string | Uint8Array,
  stallMs: number,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<false>((resolve) => (timer = setTimeout(resolve, stallMs, false)));
  const written = await Promise.race([stream.write(text).then(() => true), stalled]);
  clearTimeout(timer);
  if (!written) dropClient(stream);
  return written;
}

/**
 * Errors the response body: the server then drops the connection once the socket drains or the peer
 * goes, instead of ending the response cleanly and keeping the connection for another request.
 * (Hono's stream.abort() would end it cleanly.) Deno prints the reason, so it is one plain line.
 */
export function dropClient(stream: SSEStreamingApi): void {
  // Hono keeps the writer private; aborting it is the one way to error the body it streams.
  const { writer } = stream as unknown as { writer: WritableStreamDefaultWriter };
  writer.abort("SSE client stopped reading; disconnected").catch(() => {});
}

export async function pumpEventLog(
  stream: SSEStreamingApi,
  log: EventLog,
  options: PumpOptions,
): Promise<PumpOutcome> {
  let cursor = options.from;
  let wake: (() => void) | null = null;
  let open = !stream.aborted;
  stream.onAbort(() => {
    open = false;
    wake?.();
  });
  const unsubscribe = log.onChange(() => wake?.());
  try {
    while (open) {
      if (cursor < log.length) {
        const parts: Uint8Array[] = [];
        let bytes = 0;
        const first = cursor;
        while (
          cursor < log.length && bytes < MAX_CHUNK_BYTES && cursor - first < MAX_CHUNK_EVENTS
        ) {
          const part = encodedEvent(log.at(cursor), cursor);
          parts.push(part);
          bytes += part.length;
          cursor++;
        }
        // Always a copy: the cached bytes must never reach a stream that might transfer them.
        const chunk = concat(parts, bytes);
        if (!await writeOrDrop(stream, chunk, options.stallMs)) return "stalled";
        continue;
      }
      if (log.finished) return "finished";
      // Nothing to send: wait for the log, or send a keep-alive comment when it stays quiet.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const woken = await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        timer = setTimeout(resolve, options.keepAliveMs, false);
      });
      wake = null;
      clearTimeout(timer);
      // Let a running log gather a few more events first: one write per watcher per
      // COALESCE_MS at most, instead of one per event batch (hundreds of watchers share a log).
      if (woken && !log.finished) await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      if (!woken && open && !await writeOrDrop(stream, ": ping\n\n", options.stallMs)) {
        return "stalled";
      }
    }
    return "client_closed";
  } finally {
    unsubscribe();
  }
}
