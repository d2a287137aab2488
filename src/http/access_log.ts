// One structured line per request, written when the response (or a stream's headers) is ready.
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./types.ts";

export function accessLog(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    c.get("logger").info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
  };
}
