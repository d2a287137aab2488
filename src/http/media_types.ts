// Which request body media types each route accepts, read from the OpenAPI registry once every
// route is registered, so that a 415 from any route (ours or the OpenAPI layer's media type gate)
// can list them in `details.accepted`.
import type { App } from "./types.ts";

const acceptedByRoute = new Map<string, string[]>();

function key(method: string, path: string): string {
  return `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
}

/** Records the body media types every documented route of `app` declares. */
export function indexMediaTypes(app: App): void {
  for (const definition of app.openAPIRegistry.definitions) {
    if (definition.type !== "route") continue;
    const content = definition.route.request?.body?.content;
    if (content) {
      acceptedByRoute.set(
        key(definition.route.method, definition.route.path),
        Object.keys(content),
      );
    }
  }
}

/** The media types the route at `method` + `routePath` (Hono's `/v1/runs/:id` form) accepts. */
export function acceptedMediaTypes(method: string, routePath: string): string[] {
  return acceptedByRoute.get(key(method, routePath)) ?? [];
}
