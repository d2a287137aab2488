// Bearer-token authentication for /v1 routes when tokens are configured (see src/config.ts).
// A `read` token may GET (event streams included) and mint stream tokens; a `write` token may do
// everything. Event streams also open with a signed `?stream_token=` (src/http/stream_tokens.ts),
// since browser EventSource clients cannot send headers. GET /v1/device stays open so operators can
// check the hardware without a token; /healthz, /readyz, /openapi.json and the web page are outside
// /v1 and open too. Wrong credentials count against the client's address (src/http/auth_failures.ts).
import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import type { ApiToken, TokenScope } from "../config.ts";
import { ApiError } from "./api_error.ts";
import { type FailedAuthCounter, FailedAuthLimiter } from "./auth_failures.ts";
import type { StreamTokens } from "./stream_tokens.ts";
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

/** The configured token equal to `given`; every token is compared, so timing tells nothing. */
export function findToken(given: string, tokens: readonly ApiToken[]): ApiToken | null {
  let found: ApiToken | null = null;
  for (const token of tokens) if (tokensMatch(given, token.token) && !found) found = token;
  return found;
}

/** The event-stream routes, which accept `?stream_token=` in place of a bearer token. */
export const STREAM_PATH = /^\/v1\/(simulations|jobs)\/[^/]+\/events$/;
const STREAM_TOKEN_PATH = /^\/v1\/(simulations|jobs)\/[^/]+\/stream-token$/;

function isOpenRoute(method: string, path: string): boolean {
  return (method === "GET" || method === "HEAD") && path === "/v1/device";
}

/** Reading and minting a stream token (itself read-only access) need `read`; the rest `write`. */
export function requiredScope(method: string, path: string): TokenScope {
  if (method === "GET" || method === "HEAD") return "read";
  if (method === "POST" && STREAM_TOKEN_PATH.test(path)) return "read";
  return "write";
}

/** The peer's IP address (Deno.serve passes its connection info as Hono's `env`). */
export function clientAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

export interface BearerAuthOptions {
  tokens: readonly ApiToken[];
  streamTokens: StreamTokens;
  failures?: FailedAuthCounter;
}

export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler<AppEnv> {
  const { tokens, streamTokens } = options;
  const failures = options.failures ?? new FailedAuthLimiter();
  return (c, next) => {
    const path = c.req.path;
    const protectedPath = path === "/v1" || path.startsWith("/v1/");
    if (tokens.length === 0 || !protectedPath || isOpenRoute(c.req.method, path)) return next();

    const address = clientAddress(c);
    const blockedMs = failures.blockedForMs(address);
    if (blockedMs > 0) {
      const seconds = Math.ceil(blockedMs / 1000);
      throw new ApiError(
        429,
        "too_many_failed_authentications",
        `too many wrong tokens from this address; retry in ${seconds} s`,
        { retryAfterSeconds: seconds },
      );
    }
    const refuse = (message: string, counted: boolean) => {
      if (counted) failures.recordFailure(address);
      c.header("WWW-Authenticate", 'Bearer realm="simfluence"');
      return new ApiError(401, "unauthorized", message);
    };

    const streamToken = c.req.query("stream_token");
    if (streamToken !== undefined && c.req.method === "GET" && STREAM_PATH.test(path)) {
      if (!streamTokens.verify(streamToken, path)) {
        throw refuse("stream token invalid, expired, or minted for another stream", true);
      }
      c.set("tokenName", "stream-token");
      return next();
    }

    const header = c.req.header("Authorization") ?? "";
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    // Only a presented credential counts as a failure: a request without one guesses nothing.
    if (!match) throw refuse("missing `Authorization: Bearer <token>` header", false);
    const token = findToken(match[1], tokens);
    if (!token) throw refuse("invalid API token", true);
    c.set("tokenName", token.name);
    const needed = requiredScope(c.req.method, path);
    if (needed === "write" && token.scope !== "write") {
      throw new ApiError(
        403,
        "forbidden",
        `token "${token.name}" has scope ${token.scope}; ${c.req.method} ${path} needs write`,
        { scope: token.scope, required: needed },
      );
    }
    return next();
  };
}
