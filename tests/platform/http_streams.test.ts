// Event streams: `id:` lines and Last-Event-ID resumption (simulations and jobs), the simulation
// list and cancel, cancellation of unwatched simulations, Retry-After on the 429, and a client that
// stops reading being disconnected instead of buffered for.
import assert from "node:assert/strict";
import type { SimulationEvent, SimulationPlan } from "../../src/simfluence/simulation.ts";
import { SimulationRegistry } from "../../src/simfluence/simulation_registry.ts";
import { parseSse, testApp, until } from "../helpers/app.ts";

/** A plan is only passed through to the event source here. */
function planOf(steps: number) {
  return {
    sim: { record: { id: "sim-1" } },
    batches: Array(steps).fill([0]),
  } as unknown as SimulationPlan;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `meta`, then one step every `intervalMs` (of `payloadBytes` each), then `done`; stops on abort. */
function pacedEvents(intervalMs: number, payloadBytes = 0) {
  return async function* (
    _rt: unknown,
    plan: SimulationPlan,
    signal?: AbortSignal,
  ): AsyncGenerator<SimulationEvent[]> {
    yield [{ event: "meta", data: { steps: plan.batches.length } }];
    for (let t = 1; t <= plan.batches.length; t++) {
      if (intervalMs > 0) await sleep(intervalMs);
      signal?.throwIfAborted();
      yield [{ event: "step", data: { t, pad: "x".repeat(payloadBytes) } }];
    }
    yield [{ event: "done", data: {} }];
  };
}

/** The `id:` lines of an event stream, in order. */
function ids(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
}

Deno.test("simulation stream: event ids, Last-Event-ID resumes, 204 once everything was seen", async () => {
  const registry = new SimulationRegistry({ events: pacedEvents(0) });
  const ctx = await testApp({ streaming: { simulations: registry } });
  try {
    const { id } = registry.start(null, planOf(5));
    const url = `/v1/simulations/${id}/events`;
    const whole = await (await ctx.app.request(url)).text();
    assert.deepEqual(ids(whole), [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(parseSse(whole).map((e) => e.event), [
      "meta",
      ...Array(5).fill("step"),
      "done",
    ]);

    const resumed = await ctx.app.request(url, { headers: { "Last-Event-ID": "3" } });
    const rest = await resumed.text();
    assert.deepEqual(ids(rest), [4, 5, 6]);
    assert.deepEqual(parseSse(rest).map((e) => JSON.parse(e.data).t), [4, 5, undefined]);

    const seenAll = await ctx.app.request(url, { headers: { "Last-Event-ID": "6" } });
    assert.equal(seenAll.status, 204);
    const malformed = await ctx.app.request(url, { headers: { "Last-Event-ID": "three" } });
    assert.equal(malformed.status, 400);
    assert.match(JSON.stringify((await malformed.json()).error), /last-event-id/i);
  } finally {
    registry.shutdown();
    await ctx.close();
  }
});

Deno.test("simulations: list, cancel a running one, forget a finished one", async () => {
  const registry = new SimulationRegistry({ events: pacedEvents(20) });
  const ctx = await testApp({ streaming: { simulations: registry } });
  try {
    const first = registry.start(null, planOf(2)).id;
    const running = registry.start(null, planOf(10_000)).id;
    const page = await (await ctx.app.request("/v1/simulations?limit=1")).json();
    assert.equal(page.total, 2);
    assert.equal(page.limit, 1);
    assert.equal(page.offset, 0);
    assert.deepEqual(page.simulations.map((s: { id: string }) => s.id), [running]);
    assert.equal((await ctx.app.request("/v1/simulations?limit=0")).status, 400);

    // A watcher connected to the running one sees it end with `cancelled`.
    const watching = ctx.app.request(`/v1/simulations/${running}/events`);
    await until(() => registry.status(running)!.watchers === 1);
    const cancel = await ctx.app.request(`/v1/simulations/${running}`, { method: "DELETE" });
    assert.equal(cancel.status, 202);
    await cancel.body?.cancel();
    const events = parseSse(await (await watching).text());
    assert.equal(events.at(-1)!.event, "cancelled");
    assert.deepEqual(JSON.parse(events.at(-1)!.data), { reason: "deleted" });
    assert.equal(registry.status(running)!.status, "cancelled");

    await until(() => registry.status(first)!.status === "done");
    const forget = await ctx.app.request(`/v1/simulations/${first}`, { method: "DELETE" });
    assert.equal(forget.status, 204);
    assert.equal((await ctx.app.request(`/v1/simulations/${first}`)).status, 404);
    assert.equal(
      (await ctx.app.request(`/v1/simulations/${first}`, { method: "DELETE" })).status,
      404,
    );
  } finally {
    registry.shutdown();
    await ctx.close();
  }
});

Deno.test("simulations: one nobody watches is cancelled after the grace period", async () => {
  const registry = new SimulationRegistry({ events: pacedEvents(10), unwatchedGraceMs: 150 });
  const ctx = await testApp({ streaming: { simulations: registry } });
  try {
    // Never watched.
    const never = registry.start(null, planOf(100_000)).id;
    // Watched, then left: it keeps running while watched, and stops once the watcher is gone.
    const left = registry.start(null, planOf(100_000)).id;
    const controller = new AbortController();
    const res = await ctx.app.request(`/v1/simulations/${left}/events`, {
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    await until(() => registry.status(never)!.status === "cancelled", 3_000);
    assert.equal(registry.status(left)!.status, "running");
    await reader.cancel();
    await until(() => registry.status(left)!.status === "cancelled", 3_000);
    const replay = parseSse(await (await ctx.app.request(`/v1/simulations/${left}/events`)).text());
    assert.deepEqual(JSON.parse(replay.at(-1)!.data), { reason: "unwatched" });
    assert.ok(registry.status(left)!.steps < 100_000);
  } finally {
    registry.shutdown();
    await ctx.close();
  }
});

Deno.test("simulations: the 429 estimates when to retry (tests/platform/http_load checks the header)", async () => {
  const registry = new SimulationRegistry({ events: pacedEvents(5), maxRunning: 1 });
  try {
    const { id } = registry.start(null, planOf(1_000)); // ≥ 5 s at 5 ms a step
    const retryAfter = () => {
      try {
        registry.start(null, planOf(1));
      } catch (e) {
        return (e as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds;
      }
      assert.fail("expected a 429");
    };
    // Before a tenth of the steps, no pace yet: come back in a second.
    assert.equal(retryAfter(), 1);
    await until(() => registry.status(id)!.steps >= 150, 5_000);
    // Then from the pace so far: ≥ 4 s to go at ≥ 5 ms a step, capped at 10 s.
    const estimate = retryAfter();
    assert.ok(estimate >= 3 && estimate <= 10, `Retry-After ${estimate}`);
  } finally {
    registry.shutdown();
  }
});

Deno.test("simulation stream: a client that stops reading is disconnected, and resumes with Last-Event-ID", async () => {
  // ~30 MB of events, more than loopback socket buffers hold.
  const registry = new SimulationRegistry({ events: pacedEvents(0, 16_000) });
  const ctx = await testApp({ streaming: { simulations: registry, sseStallMs: 300 } });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, ctx.app.fetch);
  try {
    const { id } = registry.start(null, planOf(2_000));
    await until(() => registry.status(id)!.status === "done");
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await conn.write(
      new TextEncoder().encode(`GET /v1/simulations/${id}/events HTTP/1.1\r\nHost: x\r\n\r\n`),
    );
    await until(() => registry.status(id)!.watchers === 1);
    // Never read: the server's writes block once the socket is full, and after 300 ms it lets go.
    await until(() => registry.status(id)!.watchers === 0, 5_000);
    // The connection is closed from the server's side: what was buffered ends early.
    let received = 0;
    const buffer = new Uint8Array(1 << 20);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received += n;
      }
    } catch {
      // A reset is a close too.
    }
    assert.ok(received < 2_000 * 16_000, `received ${received} bytes: the whole stream`);
    conn.close();

    // A reconnecting reader resumes where it stopped instead of starting over.
    const resumed = await fetch(
      `http://127.0.0.1:${server.addr.port}/v1/simulations/${id}/events`,
      {
        headers: { "Last-Event-ID": "1990" },
      },
    );
    assert.deepEqual(ids(await resumed.text()), [
      1991,
      1992,
      1993,
      1994,
      1995,
      1996,
      1997,
      1998,
      1999,
      2000,
      2001,
    ]);
  } finally {
    registry.shutdown();
    await server.shutdown();
    await ctx.close();
  }
});

Deno.test("job stream: event ids, Last-Event-ID skips what was seen, 204 after the end", async () => {
  const ctx = await testApp();
  try {
    let release!: () => void;
    const job = ctx.jobs.submit("waits", null, async (c) => {
      c.progress({ phase: "working", fraction: 0.5 });
      await new Promise<void>((resolve) => (release = resolve));
      return { ok: true };
    });
    await until(() => ctx.jobs.get(job.id)!.progress?.phase === "working");
    const res = await ctx.app.request(`/v1/jobs/${job.id}/events`);
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const [progressId] = ids(first);
    assert.equal(progressId, Date.parse(ctx.jobs.get(job.id)!.progress!.updatedAt));
    release();
    let text = first;
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      text += new TextDecoder().decode(r.value);
    }
    const [, finalId] = ids(text);
    assert.ok(finalId > progressId, `${finalId} after ${progressId}`);
    assert.deepEqual(parseSse(text).map((e) => e.event), ["progress", "done"]);

    // Reconnecting after the progress event: the final event only, with the same id.
    const after = await ctx.app.request(`/v1/jobs/${job.id}/events`, {
      headers: { "Last-Event-ID": String(progressId) },
    });
    const rest = await after.text();
    assert.deepEqual(ids(rest), [finalId]);
    const done = await ctx.app.request(`/v1/jobs/${job.id}/events`, {
      headers: { "Last-Event-ID": String(finalId) },
    });
    assert.equal(done.status, 204);
  } finally {
    await ctx.close();
  }
});
