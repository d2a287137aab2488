import assert from "node:assert/strict";
import { createRoute, z } from "@hono/zod-openapi";
import { tokensMatch } from "../../src/http/auth.ts";
import { readJson } from "../../src/http/json_body.ts";
import type { RouteModule } from "../../src/http/types.ts";
import { ROUTE_MODULES } from "../../routes/index.ts";
import { testApp } from "../helpers/app.ts";

// Test-only routes: a zod-validated JSON body, a handler that throws, and a hand-parsed body.
const echoRoutes: RouteModule = (app) => {
  const route = createRoute({
    method: "post",
    path: "/v1/echo",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: z.object({
              name: z.string(),
              steps: z.array(z.object({ lr: z.number().positive() })),
            }),
          },
        },
      },
    },
    responses: { 200: { description: "the body" } },
  });
  app.openapi(route, (c) => c.json(c.req.valid("json"), 200));
  app.get("/v1/boom", () => {
    throw new Error("kaboom");
  });
  app.post("/v1/raw", async (c) => c.json({ got: await readJson(c) }));
  // Reads one chunk of the body and answers at once: only possible if nothing buffered it.
  app.post("/v1/first-chunk", async (c) => {
    const reader = c.req.raw.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    return c.json({ firstChunkBytes: value?.byteLength ?? 0 });
  });
};

const routes = [...ROUTE_MODULES, echoRoutes];

async function errorOf(res: Response) {
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = await res.json();
  assert.equal(typeof body.error.code, "string");
  assert.equal(typeof body.error.message, "string");
  assert.ok("details" in body.error);
  return body.error;
}

const json = (body: string, headers: Record<string, string> = {}) => ({
  method: "POST",
  body,
  headers: { "content-type": "application/json", ...headers },
});

Deno.test("middleware", async (t) => {
  const ctx = await testApp({ routes });
  const { app } = ctx;

  await t.step(
    "request id: minted when absent, echoed when given, replaced when malformed",
    async () => {
      const minted = await app.request("/healthz");
      assert.match(minted.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
      const given = await app.request("/healthz", { headers: { "X-Request-Id": "trace-123.a" } });
      assert.equal(given.headers.get("x-request-id"), "trace-123.a");
      const bad = await app.request("/healthz", { headers: { "X-Request-Id": "x".repeat(500) } });
      assert.notEqual(bad.headers.get("x-request-id"), "x".repeat(500));
      const notFound = await app.request("/nope", { headers: { "X-Request-Id": "abc" } });
      assert.equal(notFound.headers.get("x-request-id"), "abc");
      assert.equal((await notFound.json()).error.requestId, "abc");
    },
  );

  await t.step("access log: one structured line per request", async () => {
    ctx.logger.lines.length = 0;
    await app.request("/healthz", { headers: { "X-Request-Id": "log-me" } });
    const line = ctx.logger.lines.find((l) => l.msg === "request");
    assert.ok(line);
    assert.equal(line.requestId, "log-me");
    assert.equal(line.method, "GET");
    assert.equal(line.path, "/healthz");
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, "number");
  });

  await t.step("unknown route: 404 JSON; known path, wrong method: 405 with Allow", async () => {
    const res = await app.request("/no/such/route");
    assert.equal(res.status, 404);
    assert.equal((await errorOf(res)).code, "not_found");
    const wrong = await app.request("/v1/jobs/abc", { method: "PUT" });
    assert.equal(wrong.status, 405);
    assert.equal((await errorOf(wrong)).code, "method_not_allowed");
    assert.deepEqual(wrong.headers.get("allow")?.split(", ").sort(), ["DELETE", "GET"]);
  });

  await t.step("malformed JSON: 400 naming the parse problem", async () => {
    for (const path of ["/v1/echo", "/v1/raw"]) {
      const res = await app.request(path, json('{"name": "x",'));
      assert.equal(res.status, 400, path);
      const error = await errorOf(res);
      assert.equal(error.code, "malformed_json");
      assert.match(error.message, /JSON/);
      assert.ok(error.details.problem.length > 0);
    }
  });

  await t.step("validation failure: 400 with the field path", async () => {
    const res = await app.request(
      "/v1/echo",
      json(JSON.stringify({ name: "x", steps: [{ lr: 1 }, { lr: -2 }] })),
    );
    assert.equal(res.status, 400);
    const error = await errorOf(res);
    assert.equal(error.code, "validation_failed");
    assert.deepEqual(error.details.issues.map((i: { field: string }) => i.field), [
      "steps.1.lr",
    ]);
    assert.equal(error.details.field, "steps.1.lr");
    assert.equal(error.details.in, "body");
    assert.match(error.message, /^field steps\.1\.lr: /);

    const missing = await errorOf(await app.request("/v1/echo", json("{}")));
    assert.deepEqual(missing.details.issues.map((i: { field: string }) => i.field).sort(), [
      "name",
      "steps",
    ]);
    assert.match(missing.message, /: required/);

    const query = await app.request("/v1/jobs?limit=0");
    assert.equal(query.status, 400);
    const limit = await errorOf(query);
    assert.deepEqual([limit.details.field, limit.details.in], ["limit", "query"]);
    assert.match(limit.message, /^query parameter limit: /);
  });

  await t.step("a valid body passes through", async () => {
    const body = { name: "x", steps: [{ lr: 0.1 }] };
    const res = await app.request("/v1/echo", json(JSON.stringify(body)));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), body);
  });

  await t.step("wrong content type: 415 JSON", async () => {
    const res = await app.request("/v1/echo", {
      method: "POST",
      body: "name=x",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(res.status, 415);
    assert.equal((await errorOf(res)).code, "unsupported_media_type");
  });

  await t.step("unexpected exception: 500 with request id, logged with the stack", async () => {
    ctx.logger.lines.length = 0;
    const res = await app.request("/v1/boom", { headers: { "X-Request-Id": "boom-1" } });
    assert.equal(res.status, 500);
    const error = await errorOf(res);
    assert.equal(error.code, "internal");
    assert.equal(error.requestId, "boom-1");
    assert.ok(!JSON.stringify(error).includes("kaboom"), "internal details must not leak");
    const logged = ctx.logger.lines.find((l) => l.msg === "unhandled exception");
    assert.ok(logged);
    assert.equal(logged.requestId, "boom-1");
    assert.match((logged.error as { message: string; stack: string }).message, /kaboom/);
  });

  await t.step("CORS: wildcard by default, preflight answered", async () => {
    const res = await app.request("/healthz", { headers: { Origin: "https://x.example" } });
    assert.equal(res.headers.get("access-control-allow-origin"), "*");
    const preflight = await app.request("/v1/jobs", {
      method: "OPTIONS",
      headers: {
        Origin: "https://x.example",
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /DELETE/);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /Authorization/i);
  });

  await ctx.close();
});

Deno.test("middleware: CORS restricted to configured origins", async () => {
  const ctx = await testApp({ env: { SIMFLUENCE_CORS_ORIGINS: "https://good.example" } });
  const good = await ctx.app.request("/healthz", { headers: { Origin: "https://good.example" } });
  assert.equal(good.headers.get("access-control-allow-origin"), "https://good.example");
  const evil = await ctx.app.request("/healthz", { headers: { Origin: "https://evil.example" } });
  assert.equal(evil.headers.get("access-control-allow-origin"), null);
  await ctx.close();
});

Deno.test("middleware: body size limit gives a JSON 413", async () => {
  // 0.001 MB = 1048 bytes
  const ctx = await testApp({ env: { SIMFLUENCE_MAX_BODY_MB: "0.001" }, routes });
  const big = JSON.stringify({ name: "x".repeat(2000), steps: [] });
  const res = await ctx.app.request("/v1/echo", json(big));
  assert.equal(res.status, 413);
  const error = await errorOf(res);
  assert.equal(error.code, "payload_too_large");
  assert.equal(error.details.limitBytes, 1048);

  // Without Content-Length the body is counted while streamed.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode("x".repeat(400)));
      controller.close();
    },
  });
  const chunked = await ctx.app.request("/v1/echo", {
    method: "POST",
    body: stream,
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  assert.equal(chunked.status, 413);

  const small = await ctx.app.request("/v1/echo", json(JSON.stringify({ name: "x", steps: [] })));
  assert.equal(small.status, 200);
  await ctx.close();
});

Deno.test("middleware: a chunked body streams through the limit without being buffered", async () => {
  const ctx = await testApp({ env: { SIMFLUENCE_MAX_BODY_MB: "0.001" }, routes });
  // The producer sends one chunk and then never ends: a limit that buffered the whole body
  // before calling the handler would wait forever.
  let pulls = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulls++ === 0) controller.enqueue(new TextEncoder().encode("x".repeat(300)));
      else return new Promise(() => {});
    },
  });
  const res = await ctx.app.request("/v1/first-chunk", {
    method: "POST",
    body: endless,
    headers: { "transfer-encoding": "chunked" },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { firstChunkBytes: 300 });

  // A chunked body over the limit read by a hand-written JSON parser is still a 413, not the
  // parser's 400.
  const over = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(" ".repeat(400)));
      controller.close();
    },
  });
  const raw = await ctx.app.request("/v1/raw", {
    method: "POST",
    body: over,
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
  });
  assert.equal(raw.status, 413);
  assert.equal((await errorOf(raw)).code, "payload_too_large");
  await ctx.close();
});

Deno.test("middleware: bearer token on /v1 when configured", async (t) => {
  const token = "correct-horse-battery-staple";
  const ctx = await testApp({ env: { SIMFLUENCE_API_TOKEN: token }, routes });
  const { app } = ctx;

  await t.step("missing token: 401 JSON with WWW-Authenticate", async () => {
    const res = await app.request("/v1/jobs");
    assert.equal(res.status, 401);
    assert.equal((await errorOf(res)).code, "unauthorized");
    assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
  });

  await t.step("wrong tokens of any length: 401, never 500", async () => {
    for (
      const wrong of ["x", token.slice(0, -1), token + "x", "y".repeat(1000), token.toUpperCase()]
    ) {
      const res = await app.request("/v1/jobs", { headers: { Authorization: `Bearer ${wrong}` } });
      assert.equal(res.status, 401, wrong);
      await res.body?.cancel();
    }
    const basic = await app.request("/v1/jobs", { headers: { Authorization: `Basic ${token}` } });
    assert.equal(basic.status, 401);
    await basic.body?.cancel();
  });

  await t.step("right token: allowed, on routes and on unknown /v1 paths alike", async () => {
    const res = await app.request("/v1/jobs", { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    const lower = await app.request("/v1/jobs", { headers: { Authorization: `bearer ${token}` } });
    assert.equal(lower.status, 200);
    await lower.body?.cancel();
    // An unauthenticated caller cannot probe which /v1 routes exist.
    assert.equal((await app.request("/v1/nothing-here")).status, 401);
  });

  await t.step("open routes: GET /v1/device, health probes, OpenAPI document", async () => {
    for (const path of ["/v1/device", "/healthz", "/readyz", "/openapi.json"]) {
      const res = await app.request(path);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  });

  await t.step("preflight is not blocked by auth", async () => {
    const res = await app.request("/v1/jobs", {
      method: "OPTIONS",
      headers: { Origin: "https://x.example", "Access-Control-Request-Method": "GET" },
    });
    assert.equal(res.status, 204);
  });

  await ctx.close();
});

Deno.test("tokensMatch compares equal-length digests", () => {
  assert.equal(tokensMatch("abc", "abc"), true);
  assert.equal(tokensMatch("abc", "abd"), false);
  assert.equal(tokensMatch("abc", "abcd"), false); // timingSafeEqual alone would throw here
  assert.equal(tokensMatch("", "abc"), false);
});
