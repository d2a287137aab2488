// The HTTP face of errors: `ApiError` is what leaves as {"error": {code, message, details}}, and
// `toApiError` is the one place where domain errors (src/errors.ts) get their status codes.
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { DomainError, type ErrorKind } from "../errors.ts";
import { storageFailure } from "../store/storage_error.ts";

export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
  }

  static badRequest(message: string, details: unknown = null, code = "bad_request"): ApiError {
    return new ApiError(400, code, message, details);
  }
  static notFound(what: string, details: unknown = null): ApiError {
    return new ApiError(404, "not_found", `${what} not found`, details);
  }
  static conflict(message: string, details: unknown = null): ApiError {
    return new ApiError(409, "conflict", message, details);
  }
  /** 415 naming the Content-Type received and the ones accepted (`details.accepted`). */
  static unsupportedMediaType(got: string | undefined, accepted: readonly string[]): ApiError {
    const received = got && got.trim() !== "" ? got : "(none)";
    const list = accepted.length > 0 ? `; send ${accepted.join(" or ")}` : "";
    return new ApiError(
      415,
      "unsupported_media_type",
      `Content-Type "${received}" is not accepted here${list}`,
      { field: "content-type", in: "header", got: received, accepted: [...accepted] },
    );
  }
}

export const STATUS_BY_KIND: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  corrupt: 500,
  storage: 507,
};

export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  // A raw disk-full or read-only failure from any write (SQLite or a file) is a 507, not a 500.
  error = storageFailure(error) ?? error;
  if (error instanceof DomainError) {
    return new ApiError(STATUS_BY_KIND[error.kind], error.code, error.message, error.details);
  }
  return null;
}
