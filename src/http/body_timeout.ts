// Cuts off request bodies that stall (slowloris): while a handler waits for the next chunk, a body
// that sends nothing for `idleMs` fails with our JSON 408, so a client that announces a body and
// never finishes it holds a request for at most that long. A body that trickles (a byte now and
// then, never idle for long) fails the same way once, after its first `idleMs`, it has averaged
// less than `minBytesPerSecond`. The clock runs only while the handler is reading; a handler that
// never reads the body never waits on it.
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./api_error.ts";
import { withBody } from "./request_body.ts";
import type { AppEnv } from "./types.ts";

/** How long a request body may stay silent while it is being read. */
export const BODY_IDLE_TIMEOUT_MS = 30_000;
/** The slowest average a body may keep up once it has been read for BODY_IDLE_TIMEOUT_MS. */
export const BODY_MIN_BYTES_PER_SECOND = 4096;

function stalled(idleMs: number): ApiError {
  return new ApiError(
    408,
    "request_timeout",
    `request body sent nothing for ${idleMs} ms while it was being read`,
    { idleTimeoutMs: idleMs },
  );
}

function trickling(bytesPerSecond: number, minBytesPerSecond: number): ApiError {
  return new ApiError(
    408,
    "request_timeout",
    `request body arrives at ${Math.round(bytesPerSecond)} bytes/s; the minimum is ` +
      `${minBytesPerSecond}`,
    { minBytesPerSecond },
  );
}

export function bodyIdleTimeout(
  idleMs = BODY_IDLE_TIMEOUT_MS,
  minBytesPerSecond = BODY_MIN_BYTES_PER_SECOND,
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    let received = 0;
    /** Milliseconds spent waiting for chunks so far (not the handler's own work). */
    let waited = 0;
    const guarded = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(stalled(idleMs)), idleMs);
        });
        const started = performance.now();
        try {
          const { done, value } = await Promise.race([reader.read(), timeout]);
          waited += performance.now() - started;
          if (done) return controller.close();
          received += value.byteLength;
          const rate = received / (waited / 1000);
          if (waited > idleMs && rate < minBytesPerSecond) {
            throw trickling(rate, minBytesPerSecond);
          }
          controller.enqueue(value);
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
    c.req.raw = withBody(c.req.raw, guarded);
    await next();
  };
}
