// One structured line per request, written when the response (or a stream's headers) is ready.
// The path is logged without its query string, so a `?stream_token=` never reaches the log; the
// caller is named by its token's name, never the secret.
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
      token: c.get("tokenName"),
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    });
  };
}
