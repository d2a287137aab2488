// Server-Sent Events framing shared by the streaming routes.
import type { SSEStreamingApi } from "hono/streaming";

export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * Several events as one write: chunks of a stream arrive together and cost one flush. With
 * `firstId`, the events carry `id:` lines firstId, firstId + 1, … (a reconnecting EventSource sends
 * the last one back as Last-Event-ID).
 */
export function formatSse(events: readonly SseEvent[], firstId?: number): string {
  return events.map((e, i) =>
    (firstId === undefined ? "" : `id: ${firstId + i}\n`) + eventBody(e) + "\n"
  ).join("");
}

// Events shared by many watchers (a simulation's log) are serialised once, not once per watcher.
const bodies = new WeakMap<SseEvent, string>();

/** `event:` and `data:` lines of one event, memoised per event object. */
export function eventBody(event: SseEvent): string {
  let body = bodies.get(event);
  if (body === undefined) {
    body = `event: ${event.event}\ndata: ${JSON.stringify(event.data)}\n`;
    bodies.set(event, body);
  }
  return body;
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
