// OpenAPI schemas shared by route modules.
import { z } from "@hono/zod-openapi";

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
