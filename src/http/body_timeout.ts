// Cuts off request bodies that stall (slowloris): while a handler waits for the next chunk, a body
// that sends nothing for `idleMs` fails with our JSON 408, so a client that announces a body and
// never finishes it holds a request for at most that long. The timer runs only while the handler
// is reading; a handler that never reads the body never waits on it.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./api_error.ts";
import type { AppEnv } from "./types.ts";

/** How long a request body may stay silent while it is being read. */
export const BODY_IDLE_TIMEOUT_MS = 30_000;

function stalled(idleMs: number): ApiError {
  return new ApiError(
    408,
    "request_timeout",
    `request body sent nothing for ${idleMs} ms while it was being read`,
    { idleTimeoutMs: idleMs },
  );
}

export function bodyIdleTimeout(idleMs = BODY_IDLE_TIMEOUT_MS): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const guarded = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(stalled(idleMs)), idleMs);
        });
        try {
          const { done, value } = await Promise.race([reader.read(), timeout]);
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (e) {
          if (e instanceof ApiError && e.status === 408) {
            // The same slot as the body limit's 413: the error handler answers with it whatever
            // the handler's parser made of the failed read.
            c.set("bodyLimitError", e);
            reader.cancel(e).catch(() => {});
          }
          controller.error(e);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    });
    c.req.raw = new Request(c.req.raw, { body: guarded, duplex: "half" } as RequestInit);
    await next();
  };
}
