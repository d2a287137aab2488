// For routes that read JSON themselves instead of through a zod body schema: a malformed body is
// a 400 naming the parse error, never an uncaught SyntaxError (500).
import type { Context } from "hono";
import { ApiError } from "./api_error.ts";

export async function malformedJsonError(c: Context): Promise<ApiError> {
  let problem = "body is not valid JSON";
  try {
    JSON.parse(await c.req.text());
  } catch (e) {
    if (e instanceof Error) problem = e.message;
  }
  return ApiError.badRequest(
    `malformed JSON in request body: ${problem}`,
    { problem },
    "malformed_json",
  );
}

export async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw await malformedJsonError(c);
  }
}
