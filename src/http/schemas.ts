// OpenAPI schemas shared by route modules.
import { z } from "@hono/zod-openapi";
import { identifierProblem } from "../identifiers.ts";

/**
 * The one error shape every 4xx and 5xx answers with:
 *
 *     {"error": {"code", "message", "details", "requestId"}}
 *
 * - `code`: stable and machine-readable (`validation_failed`, `not_found`, `conflict`,
 *   `unsupported_media_type`, …); branch on it, not on `message`.
 * - `message`: one human-readable sentence naming what is wrong and where.
 * - `details`: always an object (`{}` when there is nothing more). Keys used across routes:
 *   `field` (the request field at fault, dotted inside its place: `steps.1.lr`, `limit`, `id`,
 *   `file`, `content-type`), `in` (that place: `body`, `query`, `path`, `header`), `line` (1-based
 *   line of an NDJSON/JSONL upload), `accepted` (415: the media types the route takes), `got`
 *   (what was sent), `issues` (validation: every problem as {field, in, message, code}),
 *   `dependants` (409 on delete: what still uses the resource), `unknown` ({total, ids}: ids not
 *   found). Other keys are specific to one code and documented with the route.
 * - `requestId`: also in the `X-Request-Id` header; quote it when reporting a 500.
 */
const ErrorDetailsSchema = z.object({
  field: z.string().optional().openapi({
    description: "The request field at fault, dotted inside its place (`in`), e.g. `steps.1.lr`",
  }),
  in: z.enum(["body", "query", "path", "header", "cookie"]).optional().openapi({
    description: "Where `field` was sent",
  }),
  line: z.number().int().min(1).optional().openapi({
    description: "1-based line of an NDJSON/JSONL upload at fault",
  }),
  accepted: z.array(z.string()).optional().openapi({
    description: "415: the media types this route accepts",
  }),
  issues: z.array(z.object({
    field: z.string(),
    in: z.string(),
    message: z.string(),
    code: z.string(),
  })).optional().openapi({ description: "validation_failed: every problem found" }),
}).catchall(z.unknown()).openapi({
  description: "Machine-readable specifics; always an object, `{}` when there are none",
});

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "validation_failed" }),
    message: z.string().openapi({
      example: "field steps.1.lr: Too small: expected number to be >=0",
    }),
    details: ErrorDetailsSchema,
    requestId: z.string().nullable(),
  }),
}).openapi("Error");

/** A JSON error response entry for createRoute's `responses`. */
export function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ErrorSchema } } };
}

export const BEARER_SECURITY = [{ bearerAuth: [] as string[] }];

/** A JSON response entry for createRoute's `responses`. */
export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A user-chosen name or id (study, run or model name, example id): 1..`max` characters without
 * control characters, bidirectional overrides or lone surrogates (src/identifiers.ts says why).
 */
export function identifier(max = 256) {
  return z.string().min(1).max(max).superRefine((value, ctx) => {
    const problem = identifierProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
}

/** The `:id` path parameter every resource route takes. */
export const IdParams = z.object({
  id: z.string().min(1).max(200).openapi({ param: { name: "id", in: "path" } }),
});

/** limit/offset paging for list routes. */
export function pageQuery(defaultLimit: number, maxLimit: number) {
  return {
    limit: z.coerce.number().int().min(1).max(maxLimit).default(defaultLimit),
    offset: z.coerce.number().int().min(0).default(0),
  };
}

/** The one shape of a page of a list: `{<key>: [...], total, limit, offset}`. */
export function pageOf<K extends string, T extends z.ZodType>(key: K, item: T) {
  const page = {
    [key]: z.array(item),
    total: z.number().int().openapi({ description: "How many items the whole list holds" }),
    limit: z.number().int(),
    offset: z.number().int(),
  } as { [P in K]: z.ZodArray<T> } & {
    total: z.ZodNumber;
    limit: z.ZodNumber;
    offset: z.ZodNumber;
  };
  return z.object(page);
}
