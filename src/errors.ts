// Domain errors: what went wrong in the service's own terms, free of HTTP. Services and lower
// layers throw these (or their own subclasses); src/http/api_error.ts maps each kind to a status
// in one place. `code` is a stable machine-readable name, `details` names the field, line or
// tensor at fault.

export const ERROR_KINDS = [
  "invalid", // the request or an uploaded file is wrong (400)
  "not_found", // 404
  "conflict", // the state does not allow it now, e.g. work still running, a name taken (409)
  "unprocessable", // well-formed, but the work it asks for cannot be done, e.g. divergence (422)
  "too_large", // 413
  "rate_limited", // 429
  "unavailable", // a dependency (GPU, built-in data) is missing or shutting down (503)
  "corrupt", // stored data no longer matches its checksum: a server-side fault (500)
  "storage", // the data directory refused a write: disk full or read-only (507)
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }
}

export class InvalidInputError extends DomainError {
  override name = "InvalidInputError";
  constructor(message: string, details: unknown = null, code = "bad_request") {
    super("invalid", code, message, details);
  }
}

export class NotFoundError extends DomainError {
  override name = "NotFoundError";
  constructor(what: string, details: unknown = null) {
    super("not_found", "not_found", `${what} not found`, details);
  }
}

export class ConflictError extends DomainError {
  override name = "ConflictError";
  constructor(message: string, details: unknown = null, code = "conflict") {
    super("conflict", code, message, details);
  }
}

export class UnavailableError extends DomainError {
  override name = "UnavailableError";
  constructor(message: string, details: unknown = null, code = "unavailable") {
    super("unavailable", code, message, details);
  }
}

/**
 * The code and message of an error we raised on purpose (a DomainError), for reporting it
 * where there is no HTTP response, e.g. in an event stream; null for anything
 * else (a bug, a lost device).
 */
export function describeError(error: unknown): { code: string; message: string } | null {
  if (error instanceof DomainError) {
    return { code: error.code, message: error.message };
  }
  return null;
}
