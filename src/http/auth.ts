// Bearer-token authentication for /v1 routes when SIMFLUENCE_API_TOKEN is set. GET /v1/device stays
// open so operators can check the hardware without the token.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./api_error.ts";
import type { AppEnv } from "./types.ts";

/**
 * Compares in time independent of where the strings differ: hashing first gives equal-length
 * inputs, so neither content nor length leaks through timing.
 */
export function tokensMatch(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

function isOpenRoute(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && path === "/v1/device";
}

export function bearerAuth(token: string | null): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const path = c.req.path;
    const protectedPath = path === "/v1" || path.startsWith("/v1/");
    if (token === null || !protectedPath || isOpenRoute(c.req.method, path)) return next();
    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (!match || !tokensMatch(match[1], token)) {
      c.header("WWW-Authenticate", 'Bearer realm="simfluence"');
      throw new ApiError(
        401,
        "unauthorized",
        match ? "invalid API token" : "missing `Authorization: Bearer <token>` header",
      );
    }
    return next();
  };
}
