// The one error type routes throw for client-visible failures; the error handler turns it (and the
// typed errors of lower layers, via `toApiError`) into `{"error": {code, message, details}}`.
import type { ContentfulStatusCode } from "hono/utils/http-status";

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
}

/**
 * Lower layers (store, safetensors, jobs) stay free of HTTP but describe how their errors should
 * surface by carrying these fields; e.g. a malformed safetensors upload is a 400.
 */
export interface HttpMappedError {
  readonly httpStatus: ContentfulStatusCode;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

function isHttpMapped(error: unknown): error is HttpMappedError {
  if (!(error instanceof Error)) return false;
  const e = error as Error & Partial<HttpMappedError>;
  return typeof e.httpStatus === "number" && e.httpStatus >= 400 && e.httpStatus <= 599 &&
    typeof e.code === "string";
}

export function toApiError(error: unknown): ApiError | null {
  if (error instanceof ApiError) return error;
  if (isHttpMapped(error)) {
    return new ApiError(error.httpStatus, error.code, error.message, error.details ?? null);
  }
  return null;
}
