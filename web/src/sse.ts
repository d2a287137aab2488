// Server-Sent Events read through fetch streams, so the Authorization header goes with them
// (EventSource cannot send headers, and the token must never go into a URL).
import { call, type RequestOptions } from "./api.ts";

export interface SseMessage {
  event: string;
  data: string;
}

/** Yields each event of an event-stream response; comments (`: ping`) are skipped. */
export async function* readEvents(response: Response): AsyncGenerator<SseMessage> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length > 0) yield { event, data: data.join("\n") };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Opens an event stream (GET, or POST with a JSON body) and yields its events. */
export async function* stream(
  path: string,
  options: RequestOptions = {},
): AsyncGenerator<SseMessage> {
  const response = await call(path, { ...options, accept: "text/event-stream" });
  yield* readEvents(response);
}

/**
 * Calls `flush` at most once per animation frame however often `schedule` is called, so a stream
 * of many small chunks redraws a chart at screen rate (well under every 100 ms) and no faster.
 */
export function frameThrottle(flush: () => void): { schedule(): void; now(): void } {
  let pending = false;
  return {
    schedule() {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        flush();
      });
    },
    now() {
      pending = false;
      flush();
    },
  };
}
