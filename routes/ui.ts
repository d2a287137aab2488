// The web page: GET / serves its HTML shell and /ui/* the bundled script and styles (built by
// `deno task build:web` into web/dist/). No auth here: the shell holds no data, and the page's
// API calls carry the token. Plain Hono routes, so they stay out of the OpenAPI document.
import { ApiError } from "../src/http/api_error.ts";
import type { RouteModule } from "../src/http/types.ts";

const WEB_DIR = new URL("../web/", import.meta.url);

/**
 * The page loads only its own script and styles and talks only to this origin; inline `style`
 * attributes (bar widths, heat-map colours) are the one inline thing it uses.
 */
const PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const ASSETS: Record<string, { file: string; type: string }> = {
  "app.js": { file: "dist/app.js", type: "text/javascript; charset=utf-8" },
  "app.css": { file: "dist/app.css", type: "text/css; charset=utf-8" },
};

/** Read once, on first request: the files change only with a new build and a restart. */
const cache = new Map<string, Uint8Array>();
async function read(file: string): Promise<Uint8Array> {
  let bytes = cache.get(file);
  if (!bytes) {
    try {
      bytes = await Deno.readFile(new URL(file, WEB_DIR));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new ApiError(
          503,
          "web_not_built",
          `web/${file} is missing: run \`deno task build:web\``,
          { file: `web/${file}` },
        );
      }
      throw e;
    }
    cache.set(file, bytes);
  }
  return bytes;
}

export const uiRoutes: RouteModule = (app) => {
  app.get("/", async (c) => {
    const body = await read("index.html");
    return c.body(body.slice().buffer, 200, {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-cache",
      "Content-Security-Policy": PAGE_POLICY,
    });
  });

  app.get("/ui/:asset", async (c) => {
    // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
    const name = c.req.param("asset");
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw ApiError.notFound(`asset ${c.req.param("asset")}`);
    return c.body((await read(asset.file)).slice().buffer, 200, {
      "Content-Type": asset.type,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
  });
};
