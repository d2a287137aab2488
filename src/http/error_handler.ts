// Every 4xx/5xx leaves as {"error": {code, message, details, requestId}}: our ApiErrors, typed errors
// of lower layers, Hono's HTTPExceptions (malformed JSON, 415), unknown routes, and unexpected
// exceptions, which are logged and reported as a bare 500 with the request id.
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ApiError, toApiError } from "./api_error.ts";
import { bodyLimitError } from "./body_limit.ts";
import { malformedJsonError } from "./json_body.ts";
import { acceptedMediaTypes } from "./media_types.ts";
import type { AppEnv } from "./types.ts";

const CODE_BY_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  503: "unavailable",
};

/** Seconds a 429 asks the client to wait: its details' `retryAfterSeconds`, else 1. */
function retryAfterSeconds(details: unknown): number {
  const given = (details as { retryAfterSeconds?: unknown } | null)?.retryAfterSeconds;
  return typeof given === "number" && given >= 1 ? Math.ceil(given) : 1;
}

/** Keys of `details` documented once (src/http/schemas.ts): absent rather than null. */
const DOCUMENTED_KEYS = ["field", "in", "line", "accepted"];

/** `details` is always an object (src/http/schemas.ts documents its keys); `{}` when empty. */
function detailsObject(details: unknown): Record<string, unknown> {
  if (details === null || details === undefined) return {};
  if (Array.isArray(details)) return { items: details };
  if (typeof details !== "object") return { value: details };
  const object = { ...details } as Record<string, unknown>;
  for (const key of DOCUMENTED_KEYS) if (object[key] === null) delete object[key];
  return object;
}

export function errorResponse(c: Context<AppEnv>, error: ApiError): Response {
  if (error.status === 429) c.header("Retry-After", String(retryAfterSeconds(error.details)));
  return c.json(
    {
      error: {
        code: error.code,
        message: error.message,
        details: detailsObject(error.details),
        requestId: c.get("requestId") ?? null,
      },
    },
    error.status,
  );
}

async function fromHttpException(c: Context<AppEnv>, e: HTTPException): Promise<ApiError> {
  if (e.status === 400 && /malformed json/i.test(e.message)) return await malformedJsonError(c);
  const status = e.status as ContentfulStatusCode;
  if (status === 415) {
    return ApiError.unsupportedMediaType(
      c.req.header("content-type"),
      acceptedMediaTypes(c.req.method, c.req.routePath),
    );
  }
  return new ApiError(status, CODE_BY_STATUS[status] ?? `http_${status}`, e.message || "error");
}

export const onError: ErrorHandler<AppEnv> = async (err, c) => {
  const logger = c.get("logger");
  // A body cut off at the limit surfaces in handlers as whatever their parser made of it.
  const cutOff = bodyLimitError(c);
  if (cutOff) return errorResponse(c, cutOff);
  let api = toApiError(err);
  if (!api && err instanceof HTTPException) api = await fromHttpException(c, err);
  if (api) {
    // 503s are expected states (no GPU, shutting down) that the access log already records.
    if (api.status >= 500 && api.status !== 503) {
      logger?.error("request failed", { code: api.code, error: err });
    }
    return errorResponse(c, api);
  }
  logger?.error("unhandled exception", { method: c.req.method, path: c.req.path, error: err });
  return errorResponse(
    c,
    new ApiError(500, "internal", "internal server error; quote the request id when reporting it"),
  );
};

/**
 * Unknown routes are 404s; a known path with the wrong method is a 405 naming the allowed ones.
 * `routes` is read per request so routes registered after this handler count too.
 */
export function notFound(
  routes: () => readonly { method: string; path: string }[],
): NotFoundHandler<AppEnv> {
  return (c) => {
    const allowed = new Set<string>();
    for (const route of routes()) {
      if (route.method !== "ALL" && routePattern(route.path).test(c.req.path)) {
        allowed.add(route.method);
      }
    }
    if (allowed.size > 0) {
      c.header("Allow", [...allowed].join(", "));
      return errorResponse(
        c,
        new ApiError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`, {
          allowed: [...allowed],
        }),
      );
    }
    return errorResponse(
      c,
      new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`),
    );
  };
}

const patterns = new Map<string, RegExp>();

function routePattern(path: string): RegExp {
  let pattern = patterns.get(path);
  if (!pattern) {
    const source = path.split("/").map((part) =>
      part.startsWith(":")
        ? "[^/]+"
        : part === "*"
        ? ".*"
        : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    ).join("/");
    pattern = new RegExp(`^${source}$`);
    patterns.set(path, pattern);
  }
  return pattern;
}
