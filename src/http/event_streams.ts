// What the event-stream routes (simulations, jobs) share: the Last-Event-ID request header, and the
// stream-token answer that lets a browser EventSource open one stream without an Authorization
// header (see src/http/stream_tokens.ts).
import { createRoute, z } from "@hono/zod-openapi";
import { BEARER_SECURITY, errorResponse, IdParams, jsonContent } from "./schemas.ts";
import type { AppDeps } from "./types.ts";
import { StreamTokens } from "./stream_tokens.ts";

export const LastEventIdHeaders = z.object({
  "last-event-id": z.string().regex(/^\d{1,15}$/, "expected the id of an event of this stream")
    .optional().openapi({
      description: "Sent by a reconnecting EventSource: the stream resumes after this event",
    }),
});

/** The id of the first event to send: one past Last-Event-ID, or 0. */
export function firstEventAfter(lastEventId: string | undefined): number {
  return lastEventId === undefined ? 0 : Number(lastEventId) + 1;
}

export const StreamTokenSchema = z.object({
  token: z.string(),
  expiresAt: z.string().openapi({ description: "After this the token opens nothing" }),
  url: z.string().openapi({
    description: "The stream's path with `?stream_token=`, for `new EventSource(url)`",
  }),
}).openapi("StreamToken");

/** A token for `path` (an events route) and the URL that carries it. */
export function mintStreamUrl(deps: AppDeps, path: string): z.infer<typeof StreamTokenSchema> {
  const tokens = deps.streamTokens ?? fallbackTokens;
  const { token, expiresAt } = tokens.mint(path);
  return { token, expiresAt, url: `${path}?stream_token=${encodeURIComponent(token)}` };
}

// createApp always supplies deps.streamTokens; this only serves route modules mounted without it.
const fallbackTokens = new StreamTokens();

/**
 * `POST /v1/<collection>/{id}/stream-token`: the one definition both event streams use. `thing`
 * names the resource in the summary ("simulation", "job").
 */
export function streamTokenRoute(collection: "simulations" | "jobs", thing: string) {
  return createRoute({
    method: "post",
    path: `/v1/${collection}/{id}/stream-token`,
    summary: `A short-lived URL that opens this ${thing}'s event stream without a bearer token`,
    description: "For browser EventSource clients under authentication: the token opens only " +
      `\`/v1/${collection}/{id}/events\` and expires after 5 minutes (a stream open by then ` +
      "stays open). A `read` token may mint it.",
    security: BEARER_SECURITY,
    request: { params: IdParams },
    responses: {
      201: jsonContent(StreamTokenSchema, "The token and the URL that carries it"),
      401: errorResponse("Missing or wrong API token"),
      404: errorResponse(`No such ${thing}`),
    },
  });
}
