// The OpenAPIHono defaultHook: zod validation failures become 400s whose details name each field
// as the client wrote it (`steps.1.lr`, `limit`, `file`) and where it was (`body`, `query`, `path`,
// `header`), with messages in the client's terms rather than the validator's.
import type { Hook } from "@hono/zod-openapi";
import { ApiError } from "./api_error.ts";
import type { AppEnv } from "./types.ts";

interface Issue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  expected?: unknown;
  keys?: readonly string[];
}

/** Where a field was sent, by the validator's target name. */
const PLACE_BY_TARGET: Record<string, string> = {
  json: "body",
  form: "body",
  query: "query",
  param: "path",
  header: "header",
  cookie: "cookie",
};

const NOUN_BY_PLACE: Record<string, string> = {
  body: "field",
  query: "query parameter",
  path: "path parameter",
  header: "header",
  cookie: "cookie",
};

export interface FieldIssue {
  /** Dotted path inside its place, e.g. `steps.1.lr`; "" for the body as a whole. */
  field: string;
  in: string;
  message: string;
  code: string;
}

/**
 * zod's default messages name its own machinery ("expected nonoptional", "received NaN",
 * "received undefined"); say what the client has to change instead.
 */
function plainMessage(issue: Issue): string {
  const message = issue.message.replace(/^Invalid input: /, "");
  if (issue.code === "invalid_type") {
    if (/received undefined$/.test(message) || issue.expected === "nonoptional") return "required";
    if (/received NaN$/.test(message)) {
      return issue.expected === "number" ? "must be a number" : `expected ${issue.expected}`;
    }
  }
  return message;
}

/** One issue per field: zod reports several unknown keys as one issue on their parent. */
function fieldIssues(place: string, issue: Issue): FieldIssue[] {
  const path = issue.path.map(String);
  const code = issue.code ?? "invalid";
  if (issue.code === "unrecognized_keys" && issue.keys && issue.keys.length > 0) {
    return issue.keys.map((key) => ({
      field: [...path, key].join("."),
      in: place,
      message: "unknown field (not in the schema; check its spelling)",
      code,
    }));
  }
  return [{ field: path.join("."), in: place, message: plainMessage(issue), code }];
}

function describe(issue: FieldIssue): string {
  const noun = NOUN_BY_PLACE[issue.in] ?? "field";
  if (issue.field === "") return `${issue.in === "body" ? "request body" : noun}: ${issue.message}`;
  return `${noun} ${issue.field}: ${issue.message}`;
}

export function validationError(target: string, issues: readonly Issue[]): ApiError {
  const place = PLACE_BY_TARGET[target] ?? target;
  const details = issues.flatMap((issue) => fieldIssues(place, issue));
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  return new ApiError(
    400,
    "validation_failed",
    first ? `${describe(first)}${more}` : "invalid request",
    first ? { field: first.field, in: first.in, issues: details } : { issues: details },
  );
}

// deno-lint-ignore no-explicit-any
export const validationHook: Hook<any, AppEnv, any, any> = (result) => {
  if (!result.success) {
    throw validationError(result.target, result.error.issues as readonly Issue[]);
  }
};
