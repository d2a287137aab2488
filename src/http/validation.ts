// The OpenAPIHono defaultHook: zod validation failures become 400s whose details name each field
// by its location, e.g. `query.limit` or `json.steps.0.lr`.
import type { Hook } from "@hono/zod-openapi";
import { ApiError } from "./api_error.ts";
import type { AppEnv } from "./types.ts";

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
}

export function validationError(target: string, issues: readonly Issue[]): ApiError {
  const details = issues.map((issue) => ({
    path: [target, ...issue.path.map(String)].join("."),
    message: issue.message,
    code: issue.code ?? "invalid",
  }));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  return new ApiError(
    400,
    "validation_failed",
    first ? `${first.path}: ${first.message}${more}` : "invalid request",
    { issues: details },
  );
}

// deno-lint-ignore no-explicit-any
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    throw validationError(result.target, result.error.issues);
  }
};
