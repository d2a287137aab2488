// Access control: scoped bearer tokens on every /v1 route, failed-authentication rate limiting per
// client address, and signed stream tokens for EventSource clients.
import assert from "node:assert/strict";
import { FailedAuthLimiter } from "../../src/http/auth_failures.ts";
import { StreamTokens } from "../../src/http/stream_tokens.ts";
import type { SimulationEvent, SimulationPlan } from "../../src/simfluence/simulation.ts";
import { SimulationRegistry } from "../../src/simfluence/simulation_registry.ts";
import { parseSse, testApp, until } from "../helpers/app.ts";

const WRITE = "write-token-0123456789";
const READ = "read-token-0123456789";
const TOKENS = `ci:write:${WRITE},dashboard:read:${READ}`;
const OPEN_PATHS = ["/healthz", "/readyz", "/v1/device"];

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
/** Hono hands Deno.serve's connection info to middleware as `env`; tests pass it themselves. */
const from = (address: string) => ({ remoteAddr: { hostname: address } });

/** A plan is only passed through to the event source here. */
const plan = { sim: { record: { id: "sim-1" } }, batches: [[0], [1]] } as unknown as SimulationPlan;

/** Two steps, then done, at once. */
async function* quickEvents(): AsyncGenerator<SimulationEvent[]> {
  yield* [[
    { event: "meta", data: {} },
    { event: "step", data: { t: 1 } },
    { event: "step", data: { t: 2 } },
    { event: "done", data: {} },
  ] as SimulationEvent[]];
}

Deno.test("auth: every OpenAPI operation needs a token, except health probes and /v1/device", async () => {
  const ctx = await testApp({ env: { SIMFLUENCE_API_TOKENS: TOKENS } });
  try {
    const doc = await (await ctx.app.request("/openapi.json")).json();
    const operations: [string, string][] = [];
    for (const [path, item] of Object.entries(doc.paths as Record<string, object>)) {
      for (const method of Object.keys(item)) {
        if (["get", "post", "put", "patch", "delete"].includes(method)) {
          operations.push([method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x")]);
        }
      }
    }
    assert.ok(operations.length > 40, `only ${operations.length} operations documented`);
    const open: string[] = [];
    for (const [method, path] of operations) {
      const res = await ctx.app.request(path, { method });
      await res.body?.cancel();
      if (OPEN_PATHS.includes(path)) {
        assert.notEqual(res.status, 401, `${method} ${path} should be open`);
      } else if (res.status !== 401) {
        open.push(`${method} ${path} → ${res.status}`);
      }
    }
    assert.deepEqual(open, [], "routes answering without a token");
    // Every open path is actually documented, so the list above cannot go stale unnoticed.
    for (const path of OPEN_PATHS) assert.ok(doc.paths[path], `${path} is not documented`);
  } finally {
    await ctx.close();
  }
});

Deno.test("auth: a read token reads and mints stream tokens; anything else is a 403", async () => {
  const registry = new SimulationRegistry({ events: quickEvents });
  const ctx = await testApp({
    env: { SIMFLUENCE_API_TOKENS: TOKENS },
    streaming: { simulations: registry },
  });
  try {
    const { id } = registry.start(null, plan);
    for (const path of ["/v1/jobs", "/v1/runs", `/v1/simulations/${id}`, "/v1/simulations"]) {
      const res = await ctx.app.request(path, { headers: bearer(READ) });
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    const minted = await ctx.app.request(`/v1/simulations/${id}/stream-token`, {
      method: "POST",
      headers: bearer(READ),
    });
    assert.equal(minted.status, 201);
    await minted.body?.cancel();

    const writes: [string, string][] = [
      ["POST", "/v1/runs"],
      ["DELETE", `/v1/simulations/${id}`],
      ["POST", "/v1/simulators"],
      ["DELETE", "/v1/jobs/x"],
    ];
    for (const [method, path] of writes) {
      const res = await ctx.app.request(path, { method, headers: bearer(READ) });
      assert.equal(res.status, 403, `${method} ${path}`);
      const { error } = await res.json();
      assert.equal(error.code, "forbidden");
      assert.match(error.message, /dashboard.*read.*needs write/);
      assert.ok(!error.message.includes(READ));
    }
    // The write token passes the same routes' access control (then fails validation or lookup).
    const write = await ctx.app.request("/v1/jobs/x", { method: "DELETE", headers: bearer(WRITE) });
    assert.equal(write.status, 404);
    await write.body?.cancel();
    // The legacy single token still works, as a write token.
    const legacy = await testApp({ env: { SIMFLUENCE_API_TOKEN: "legacy" } });
    const res = await legacy.app.request("/v1/jobs/x", {
      method: "DELETE",
      headers: bearer("legacy"),
    });
    assert.equal(res.status, 404);
    await res.body?.cancel();
    await legacy.close();
  } finally {
    await ctx.close();
  }
});

Deno.test("auth: wrong tokens from one address are rate-limited with 429 and Retry-After", async () => {
  const ctx = await testApp({
    env: { SIMFLUENCE_API_TOKENS: TOKENS },
    streaming: { authFailures: new FailedAuthLimiter({ maxFailures: 3, windowMs: 60_000 }) },
  });
  try {
    const request = (token: string | null, address: string) =>
      ctx.app.request("/v1/jobs", { headers: token ? bearer(token) : {} }, from(address));
    // Requests without a token guess nothing and are not counted.
    for (let i = 0; i < 5; i++) assert.equal((await request(null, "10.0.0.1")).status, 401);
    for (let i = 0; i < 3; i++) assert.equal((await request("guess" + i, "10.0.0.1")).status, 401);
    const limited = await request(WRITE, "10.0.0.1");
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    const { error } = await limited.json();
    assert.equal(error.code, "too_many_failed_authentications");
    assert.equal(error.details.retryAfterSeconds, retryAfter);
    // Another address is unaffected.
    assert.equal((await request(WRITE, "10.0.0.2")).status, 200);
  } finally {
    await ctx.close();
  }
});

Deno.test("auth: a failure window ends, and old addresses make room", () => {
  let now = 0;
  const limiter = new FailedAuthLimiter({
    maxFailures: 2,
    windowMs: 1_000,
    maxAddresses: 3,
    now: () => now,
  });
  limiter.recordFailure("a");
  assert.equal(limiter.blockedForMs("a"), 0);
  now = 200;
  limiter.recordFailure("a");
  assert.equal(limiter.blockedForMs("a"), 800);
  now = 1_000;
  assert.equal(limiter.blockedForMs("a"), 0);
  for (const address of ["b", "c", "d", "e"]) {
    limiter.recordFailure(address);
    limiter.recordFailure(address);
  }
  // At most three addresses are tracked: the oldest ("b") was dropped to make room.
  assert.equal(limiter.blockedForMs("b"), 0);
  assert.ok(limiter.blockedForMs("e") > 0);
});

Deno.test("auth: stream tokens open their one stream until they expire, and stay out of the log", async () => {
  let now = Date.now();
  const streamTokens = new StreamTokens({ ttlMs: 60_000, now: () => now });
  const registry = new SimulationRegistry({ events: quickEvents });
  const ctx = await testApp({
    env: { SIMFLUENCE_API_TOKENS: TOKENS },
    streaming: { simulations: registry, streamTokens },
  });
  try {
    const first = registry.start(null, plan).id;
    const second = registry.start(null, plan).id;
    const withoutBearer = await ctx.app.request(`/v1/simulations/${first}/events`);
    assert.equal(withoutBearer.status, 401);
    await withoutBearer.body?.cancel();

    const res = await ctx.app.request(`/v1/simulations/${first}/stream-token`, {
      method: "POST",
      headers: bearer(READ),
    });
    assert.equal(res.status, 201);
    const { token, url, expiresAt } = await res.json();
    assert.equal(url, `/v1/simulations/${first}/events?stream_token=${encodeURIComponent(token)}`);
    assert.equal(Date.parse(expiresAt), now + 60_000);

    const stream = await ctx.app.request(url);
    assert.equal(stream.status, 200);
    assert.deepEqual(parseSse(await stream.text()).map((e) => e.event), [
      "meta",
      "step",
      "step",
      "done",
    ]);

    // Not another simulation's stream, nor a job's, nor any other route.
    const q = `stream_token=${encodeURIComponent(token)}`;
    for (
      const path of [
        `/v1/simulations/${second}/events?${q}`,
        `/v1/jobs/${first}/events?${q}`,
        `/v1/simulations/${first}?${q}`,
        `/v1/simulations?${q}`,
      ]
    ) {
      const other = await ctx.app.request(path);
      assert.equal(other.status, 401, path);
      await other.body?.cancel();
    }
    // Tampered: another expiry with the same signature.
    const [expiry, signature] = token.split(".");
    const later = (parseInt(expiry, 36) + 3_600_000).toString(36);
    const forged = await ctx.app.request(
      `/v1/simulations/${first}/events?stream_token=${later}.${signature}`,
    );
    assert.equal(forged.status, 401);
    await forged.body?.cancel();

    // Expired.
    now += 60_001;
    const expired = await ctx.app.request(url);
    assert.equal(expired.status, 401);
    assert.match((await expired.json()).error.message, /stream token/);

    // Job streams get their own tokens too, for existing jobs only.
    const missing = await ctx.app.request("/v1/jobs/nope/stream-token", {
      method: "POST",
      headers: bearer(READ),
    });
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const job = ctx.jobs.submit("quick", null, () => Promise.resolve(1));
    await until(() => ctx.jobs.get(job.id)!.status === "succeeded");
    const minted = await (await ctx.app.request(`/v1/jobs/${job.id}/stream-token`, {
      method: "POST",
      headers: bearer(READ),
    })).json();
    const jobStream = await ctx.app.request(minted.url);
    assert.equal(jobStream.status, 200);
    assert.deepEqual(parseSse(await jobStream.text()).map((e) => e.event), ["done"]);
    const crossed = await ctx.app.request(
      `/v1/simulations/${first}/events?stream_token=${encodeURIComponent(minted.token)}`,
    );
    assert.equal(crossed.status, 401);
    await crossed.body?.cancel();

    const logged = JSON.stringify(ctx.logger.lines);
    const requests = ctx.logger.lines.filter((line) => line.msg === "request");
    assert.ok(requests.some((line) => line.token === "dashboard"), "the token's name is logged");
    assert.ok(requests.some((line) => line.token === "stream-token"));
    assert.ok(logged.includes(`/v1/simulations/${first}/events`), "the stream was logged");
    assert.ok(!logged.includes(signature), "the access log holds the stream token");
    assert.ok(!logged.includes(READ), "the access log holds a bearer token");
  } finally {
    await ctx.close();
  }
});
