// OpenAPI schemas shared by route modules.
import { z } from "@hono/zod-openapi";
import { identifierProblem } from "../identifiers.ts";

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "validation_failed" }),
    message: z.string(),
    details: z.unknown().openapi({ description: "Machine-readable specifics, e.g. field paths" }),
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
