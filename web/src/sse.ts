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

/** A redraw at most this long after new data arrived, even where frames are not painted. */
const MAX_REDRAW_DELAY_MS = 25;

export interface Throttle {
  /** New data arrived: redraw at the next frame (or within MAX_REDRAW_DELAY_MS). */
  schedule(): void;
  /** Redraw now (the stream ended). */
  now(): void;
  /** The longest wait so far between data arriving and the redraw that showed it. */
  readonly maxLagMs: number;
}

/**
 * Calls `flush` at most once per animation frame however often `schedule` is called, so a stream
 * of many small chunks redraws a chart at screen rate and no faster; a timer covers tabs whose
 * frames are paused, so arrived data waits at most ~25 ms to be drawn.
 */
export function frameThrottle(flush: () => void): Throttle {
  let pendingSince: number | null = null;
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let maxLagMs = 0;
  const run = () => {
    if (pendingSince === null) return;
    cancelAnimationFrame(frame);
    clearTimeout(timer);
    maxLagMs = Math.max(maxLagMs, performance.now() - pendingSince);
    pendingSince = null;
    flush();
  };
  return {
    schedule() {
      if (pendingSince !== null) return;
      pendingSince = performance.now();
      frame = requestAnimationFrame(run);
      timer = setTimeout(run, MAX_REDRAW_DELAY_MS);
    },
    now() {
      pendingSince ??= performance.now();
      run();
    },
    get maxLagMs() {
      return maxLagMs;
    },
  };
}
