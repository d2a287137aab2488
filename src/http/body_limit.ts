// Caps request bodies with our JSON 413. A declared Content-Length is checked up front; every body
// is also counted as the handler reads it, so chunked uploads (NDJSON runs) stream through without
// being buffered here, and the 413 comes from the chunk that crosses the limit.
import type { Context, MiddlewareHandler } from "hono";
import { ApiError } from "./api_error.ts";
import { withBody } from "./request_body.ts";
import type { AppEnv } from "./types.ts";

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(
    413,
    "payload_too_large",
    `request body exceeds the ${maxBytes}-byte limit (SIMFLUENCE_MAX_BODY_MB)`,
    { limitBytes: maxBytes },
  );
}

/** The 413 a request earned while its body was read, whatever the handler made of the error. */
export function bodyLimitError(c: Context<AppEnv>): ApiError | null {
  return c.get("bodyLimitError") ?? null;
}

export function bodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header("content-length");
    if (
      declared !== undefined && !c.req.raw.headers.has("transfer-encoding") &&
      Number(declared) > maxBytes
    ) {
      throw tooLarge(maxBytes);
    }
    let seen = 0;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) {
            const error = tooLarge(maxBytes);
            c.set("bodyLimitError", error);
            controller.error(error);
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    c.req.raw = withBody(c.req.raw, counted);
    await next();
  };
}
