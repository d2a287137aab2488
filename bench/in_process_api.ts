// The service's HTTP API called in process (app.request, no socket), for the comparison suites
// that drive a whole study through it (compare.ts, compare_magic.ts).
import type { createApp } from "../src/app.ts";

export type App = ReturnType<typeof createApp>;
/** The API's JSON answers, read by field name (their schemas are in /openapi.json). */
// deno-lint-ignore no-explicit-any
export type Json = any;

/** One request; a 4xx or 5xx throws with the method, path, status and body. */
export async function call(app: App, method: string, path: string, body?: unknown): Promise<Json> {
  const init: RequestInit = { method };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await app.request(path, init);
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** Polls a job until it ends; its result, or an error naming how it ended. */
export async function finished(app: App, job: string): Promise<Json> {
  for (;;) {
    const record = await call(app, "GET", `/v1/jobs/${job}`);
    if (record.status === "succeeded") return record.result;
    if (record.status === "failed" || record.status === "cancelled") {
      throw new Error(`job ${job} ${record.status}: ${record.error}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A progress line on stderr with the time of day. */
export function log(message: string) {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}
