// CORS for browser clients, restricted to the configured origins ("*" allows any).
import type { MiddlewareHandler } from "hono";
import { cors as honoCors } from "hono/cors";
import { REQUEST_ID_HEADER } from "./request_id.ts";
import type { AppEnv } from "./types.ts";

export function cors(origins: readonly string[]): MiddlewareHandler<AppEnv> {
  return honoCors({
    origin: origins.includes("*") ? "*" : [...origins],
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    allowHeaders: ["Authorization", "Content-Type", REQUEST_ID_HEADER, "Last-Event-ID"],
    exposeHeaders: [REQUEST_ID_HEADER],
    maxAge: 600,
  });
}
