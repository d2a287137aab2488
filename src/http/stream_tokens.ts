// Short-lived signed tokens for event-stream URLs: browser EventSource clients cannot send an
// Authorization header, so an authenticated POST mints a token that opens one stream path, once or
// many times, until it expires. The token is `<expiry ms, base 36>.<HMAC-SHA256(path, expiry)>`;
// the key is random per process, so a restart invalidates every token (a cluster's nodes share one
// key kept in PostgreSQL: src/cluster/stream_token_key.ts).
import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface StreamTokensOptions {
  /** How long a minted token opens its stream; 5 minutes by default. */
  ttlMs?: number;
  key?: Uint8Array;
  now?: () => number;
}

export interface MintedStreamToken {
  token: string;
  expiresAt: string;
}

export class StreamTokens {
  readonly ttlMs: number;
  private readonly key: Uint8Array;
  private readonly now: () => number;

  constructor(options: StreamTokensOptions = {}) {
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.key = options.key ?? randomBytes(32);
    this.now = options.now ?? Date.now;
  }

  /** A token that opens exactly `path` (no query) until now + ttl. */
  mint(path: string): MintedStreamToken {
    const expires = this.now() + this.ttlMs;
    return {
      token: `${expires.toString(36)}.${this.sign(path, expires).toString("base64url")}`,
      expiresAt: new Date(expires).toISOString(),
    };
  }

  /** Whether `token` was minted here for `path` and has not expired. */
  verify(token: string, path: string): boolean {
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const expires = parseInt(match[1], 36);
    if (!(expires > this.now())) return false;
    const given = Buffer.from(match[2], "base64url");
    const expected = this.sign(path, expires);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private sign(path: string, expires: number): Buffer {
    return createHmac("sha256", this.key).update(`${path}\n${expires}`).digest();
  }
}
