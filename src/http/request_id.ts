// X-Request-Id: reuse a well-formed incoming id (so traces join up across services), otherwise mint
// one; echo it on the response and attach it to the request's logger.
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../log.ts";
import type { AppEnv } from "./types.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const id = incoming && WELL_FORMED.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    c.set("logger", logger.child({ requestId: id }));
    c.header(REQUEST_ID_HEADER, id);
    await next();
    // Responses built outside the context (e.g. by a library) may lack the header.
    if (!c.res.headers.has(REQUEST_ID_HEADER)) {
      try {
        c.res.headers.set(REQUEST_ID_HEADER, id);
      } catch {
        // immutable headers: nothing to do
      }
    }
  };
}
