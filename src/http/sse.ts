// Server-Sent Events framing shared by the streaming routes.
import type { SSEStreamingApi } from "hono/streaming";

export interface SseEvent {
  event: string;
  data: unknown;
}

/** Several events as one write: chunks of a stream arrive together and cost one flush. */
export function formatSse(events: readonly SseEvent[]): string {
  return events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`).join("");
}

/** Writes `: ping` comments every `intervalMs` so proxies keep idle streams open; returns a stop. */
export function keepAlive(stream: SSEStreamingApi, intervalMs: number): () => void {
  const timer = setInterval(() => {
    if (!stream.aborted && !stream.closed) void stream.write(": ping\n\n").catch(() => {});
  }, intervalMs);
  return () => clearInterval(timer);
}

/** Whether the client asked for an event stream. */
export function wantsEventStream(accept: string | undefined): boolean {
  return (accept ?? "").split(",").some((part) => part.trim().startsWith("text/event-stream"));
}
