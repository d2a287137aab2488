// Caps request bodies (Content-Length, or counted while streaming) with our JSON 413.
import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.ts";
import type { AppEnv } from "./types.ts";

export function bodyLimit(maxBytes: number): MiddlewareHandler<AppEnv> {
  return honoBodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ApiError(
        413,
        "payload_too_large",
        `request body exceeds the ${maxBytes}-byte limit (SIMFLUENCE_MAX_BODY_MB)`,
        { limitBytes: maxBytes },
      );
    },
  });
}
