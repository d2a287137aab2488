// Random requests against every registered route must never produce a 5xx, and every error must
// be our JSON error shape. The route list comes from the app, so later routes are covered too.
import assert from "node:assert/strict";
import fc from "fast-check";
import { testApp, until } from "./helpers/app.ts";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

Deno.test("property: no route answers random requests with a 5xx", async () => {
  const ctx = await testApp({ sseKeepAliveMs: 50 });
  const finished = ctx.jobs.submit("done", { a: 1 }, () => Promise.resolve({ ok: true }));
  const running = ctx.jobs.submit(
    "forever",
    null,
    (c) =>
      new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason))),
  );
  await until(() => ctx.jobs.get(finished.id)!.status === "succeeded");

  const routes = ctx.app.routes.filter((r) => r.method !== "ALL");
  assert.ok(routes.length >= 7, "expected the app's routes to be listed");
  const templates = [...new Set(routes.map((r) => r.path))];

  const segment = fc.oneof(
    fc.constantFrom(finished.id, running.id),
    fc.string({ minLength: 1, maxLength: 40 }).map(encodeURIComponent),
    fc.constantFrom("..", "%00", "%ZZ", "a%2Fb", "x".repeat(300)),
  );
  const path = fc.tuple(
    fc.constantFrom(...templates),
    fc.array(segment, { minLength: 4, maxLength: 4 }),
  )
    .map(([template, values]) => {
      let i = 0;
      return template.replace(/:[^/]+/g, () => values[i++]);
    });
  const query = fc.dictionary(
    fc.constantFrom("limit", "offset", "status", "kind", "x", "id"),
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constant("")),
    { maxKeys: 3 },
  ).map((q) => new URLSearchParams(q).toString());
  const body = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 60 }),
    fc.constant('{"unterminated": '),
  );
  const contentType = fc.constantFrom(
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    null,
  );

  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...METHODS),
      path,
      query,
      body,
      contentType,
      async (method, p, q, b, type) => {
        const headers: Record<string, string> = {};
        if (type) headers["content-type"] = type;
        const hasBody = method !== "GET" && method !== "HEAD";
        const res = await ctx.app.request(`${p}${q ? `?${q}` : ""}`, {
          method,
          headers,
          body: hasBody ? b : undefined,
        });
        const label = `${method} ${p}?${q} (${type}) ${b.slice(0, 80)}`;
        assert.ok(res.status < 500, `${res.status} for ${label}`);
        if (res.status >= 400 && method !== "HEAD") {
          const json = await res.json();
          assert.equal(typeof json.error?.code, "string", label);
        } else {
          await res.body?.cancel();
        }
      },
    ),
    { numRuns: 300 },
  );
  await ctx.close();
});
