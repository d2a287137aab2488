import assert from "node:assert/strict";
import { FAKE_DEVICE, fakeGpu, parseSse, testApp, until } from "../helpers/app.ts";

Deno.test("health and device routes", async (t) => {
  await t.step("healthz is always 200", async () => {
    const ctx = await testApp({ gpu: fakeGpu({ error: "no adapter" }) });
    const res = await ctx.app.request("/healthz");
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "ok");
    await ctx.close();
  });

  await t.step("readyz: 200 with both checks when store and GPU work", async () => {
    const ctx = await testApp();
    const res = await ctx.app.request("/readyz");
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      status: "ready",
      checks: { store: { ok: true, error: null }, gpu: { ok: true, error: null } },
    });
    await ctx.close();
  });

  await t.step("readyz: 503 carrying the GPU's install hint", async () => {
    const hint = "No WebGPU adapter found. ... install Mesa's software drivers";
    const ctx = await testApp({ gpu: fakeGpu({ error: hint }) });
    const res = await ctx.app.request("/readyz");
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.code, "not_ready");
    assert.match(error.message, /gpu: No WebGPU adapter found/);
    assert.equal(error.details.checks.gpu.error, hint);
    assert.equal(error.details.checks.store.ok, true);
    await ctx.close();
  });

  await t.step(
    "readyz: a cluster's node without a GPU is ready, and says why it has none",
    async () => {
      const hint = "No WebGPU adapter found";
      const ctx = await testApp({
        gpu: fakeGpu({ error: hint }),
        env: { SIMFLUENCE_DATABASE_URL: "postgres://simfluence@127.0.0.1:5432/simfluence" },
      });
      const res = await ctx.app.request("/readyz");
      assert.equal(res.status, 200);
      const { checks } = await res.json();
      assert.deepEqual(checks.gpu, { ok: true, error: hint });
      await ctx.close();
    },
  );

  await t.step("readyz: 503 when the store is closed", async () => {
    const ctx = await testApp();
    ctx.store.close();
    const res = await ctx.app.request("/readyz");
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.details.checks.store.ok, false);
    assert.equal(error.details.checks.gpu.ok, true);
    await Deno.remove(ctx.dataDir, { recursive: true });
  });

  await t.step("device: description, software flag and kernel config", async () => {
    const ctx = await testApp({ gpu: fakeGpu({ kernelConfig: { matmul: { tile: [8, 8] } } }) });
    const res = await ctx.app.request("/v1/device");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.vendor, FAKE_DEVICE.vendor);
    assert.deepEqual(body.limits, FAKE_DEVICE.limits);
    assert.deepEqual(body.features, FAKE_DEVICE.features);
    assert.equal(body.softwareFallback, false);
    assert.deepEqual(body.kernelConfig, { matmul: { tile: [8, 8] } });
    await ctx.close();
  });

  await t.step("device: llvmpipe counts as software even if not flagged fallback", async () => {
    const gpu = fakeGpu();
    const ctx = await testApp({
      gpu: { ...gpu, describe: () => ({ ...FAKE_DEVICE, description: "llvmpipe (LLVM 15)" }) },
    });
    assert.equal((await (await ctx.app.request("/v1/device")).json()).softwareFallback, true);
    await ctx.close();
  });

  await t.step("device: 503 with the message when there is no GPU", async () => {
    const ctx = await testApp({ gpu: fakeGpu({ error: "no adapter; install mesa" }) });
    const res = await ctx.app.request("/v1/device");
    assert.equal(res.status, 503);
    const { error } = await res.json();
    assert.equal(error.code, "gpu_unavailable");
    assert.equal(error.message, "no adapter; install mesa");
    await ctx.close();
  });
});

Deno.test("openapi document", async () => {
  const ctx = await testApp();
  const res = await ctx.app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = await res.json();
  assert.equal(doc.openapi, "3.1.0");
  for (
    const path of [
      "/healthz",
      "/readyz",
      "/v1/device",
      "/v1/jobs",
      "/v1/jobs/{id}",
      "/v1/jobs/{id}/events",
    ]
  ) {
    assert.ok(doc.paths[path], `missing ${path}`);
  }
  assert.ok(doc.paths["/v1/jobs/{id}"].delete);
  const params = doc.paths["/v1/jobs"].get.parameters.map((p: { name: string }) => p.name).sort();
  assert.deepEqual(params, ["kind", "limit", "offset", "status"]);
  assert.ok(
    doc.components.schemas.Job && doc.components.schemas.Error && doc.components.schemas.Device,
  );
  assert.equal(doc.components.securitySchemes.bearerAuth.scheme, "bearer");
  // Every registered route (but the document itself and the web page's, which are not API:
  // routes/ui.ts) is documented.
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((m) =>
        `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`
      )
    ),
  );
  for (const route of ctx.app.routes) {
    if (route.method === "ALL" || route.path === "/openapi.json") continue;
    if (route.path === "/" || route.path.startsWith("/ui/")) continue;
    assert.ok(
      documented.has(`${route.method} ${route.path}`),
      `${route.method} ${route.path} undocumented`,
    );
  }
  await ctx.close();
});

Deno.test("job routes", async (t) => {
  const ctx = await testApp({ sseKeepAliveMs: 20 });
  const { app, jobs } = ctx;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));

  const running = jobs.submit("train", { lr: 0.1 }, async (c) => {
    c.progress({ phase: "train", step: 1, total: 4, message: "first" });
    await new Promise<void>((resolve, reject) => {
      c.signal.addEventListener("abort", () => reject(c.signal.reason));
      released.then(resolve);
    });
    c.progress({ phase: "train", step: 4 });
    return { loss: 0.5 };
  });
  await until(() => jobs.get(running.id)!.progress?.phase === "train");

  await t.step("list: pages, filters, validates", async () => {
    for (let i = 0; i < 3; i++) jobs.submit("other", i, () => Promise.resolve(i));
    const page = await (await app.request("/v1/jobs?limit=2&offset=0")).json();
    assert.equal(page.total, 4);
    assert.equal(page.jobs.length, 2);
    assert.equal(page.limit, 2);
    const filtered = await (await app.request("/v1/jobs?kind=train")).json();
    assert.deepEqual(filtered.jobs.map((j: { id: string }) => j.id), [running.id]);
    assert.equal(
      filtered.jobs[0].progress.message,
      "first",
      "live progress, not the throttled copy",
    );
    assert.equal((await app.request("/v1/jobs?status=bogus")).status, 400);
    assert.equal((await app.request("/v1/jobs?limit=1000")).status, 400);
  });

  await t.step("get: the job or 404", async () => {
    const res = await app.request(`/v1/jobs/${running.id}`);
    assert.equal(res.status, 200);
    const job = await res.json();
    assert.equal(job.status, "running");
    assert.deepEqual(job.input, { lr: 0.1 });
    const missing = await app.request("/v1/jobs/does-not-exist");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "not_found");
  });

  await t.step("events: replay, progress, final event, then the stream ends", async () => {
    const res = await app.request(`/v1/jobs/${running.id}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    // Wait for the replay and at least one keep-alive before letting the job finish.
    while (!(text.includes("event: progress") && text.includes(": ping"))) {
      text += (await reader.read()).value ?? "";
    }
    release();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const events = parseSse(text);
    const named = events.filter((e) => e.event !== "comment");
    assert.equal(named[0].event, "progress");
    assert.equal(JSON.parse(named[0].data).message, "first", "replays current state first");
    const last = named.at(-1)!;
    assert.equal(last.event, "done");
    assert.deepEqual(JSON.parse(last.data).result, { loss: 0.5 });
    const progress = named.filter((e) => e.event === "progress").map((e) => JSON.parse(e.data));
    assert.equal(progress.at(-1).step, 4);
    for (const p of progress) {
      for (
        const key of ["phase", "fraction", "step", "total", "etaSeconds", "throughput", "message"]
      ) {
        assert.ok(key in p, `progress lacks ${key}`);
      }
    }
    assert.ok(events.some((e) => e.event === "comment" && e.data === "ping"));
  });

  await t.step("events of a finished job: just the final event", async () => {
    const text = await (await app.request(`/v1/jobs/${running.id}/events`)).text();
    assert.deepEqual(parseSse(text).map((e) => e.event), ["done"]);
    assert.equal((await app.request("/v1/jobs/nope/events")).status, 404);
  });

  await t.step("cancel: 202 for a running job, events end with cancelled, then 409", async () => {
    const job = jobs.submit(
      "slow",
      null,
      (c) =>
        new Promise((_, reject) =>
          c.signal.addEventListener("abort", () => reject(c.signal.reason))
        ),
    );
    await until(() => jobs.get(job.id)!.status === "running");
    const stream = await app.request(`/v1/jobs/${job.id}/events`);
    const res = await app.request(`/v1/jobs/${job.id}`, { method: "DELETE" });
    assert.equal(res.status, 202);
    const events = parseSse(await stream.text()).filter((e) => e.event !== "comment");
    assert.equal(events.at(-1)!.event, "cancelled");
    assert.equal(JSON.parse(events.at(-1)!.data).status, "cancelled");
    const again = await app.request(`/v1/jobs/${job.id}`, { method: "DELETE" });
    assert.equal(again.status, 409);
    assert.equal((await again.json()).error.code, "job_finished");
    assert.equal((await app.request("/v1/jobs/nope", { method: "DELETE" })).status, 404);
  });

  await t.step("cancel: 200 for a queued job", async () => {
    let releaseBlocker!: () => void;
    const blocker = jobs.submit(
      "block",
      null,
      () => new Promise<void>((r) => (releaseBlocker = r)),
    );
    const queued = jobs.submit("waiting", null, () => Promise.resolve());
    await until(() => jobs.get(blocker.id)!.status === "running");
    const res = await app.request(`/v1/jobs/${queued.id}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "cancelled");
    releaseBlocker();
    await until(() => jobs.get(blocker.id)!.status === "succeeded");
  });

  await ctx.close();
});

Deno.test("events: a client disconnect over a real server stops the stream", async () => {
  const ctx = await testApp({ sseKeepAliveMs: 10 });
  const job = ctx.jobs.submit(
    "forever",
    null,
    (c) =>
      new Promise((_, reject) => c.signal.addEventListener("abort", () => reject(c.signal.reason))),
  );
  await until(() => ctx.jobs.get(job.id)!.status === "running");
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, ctx.app.fetch);
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/v1/jobs/${job.id}/events`, {
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /event: progress/);
  // The subscription is live while the client is connected...
  const listeners = () => ctx.jobs.subscriberCount(job.id);
  assert.equal(listeners(), 1);
  abort.abort();
  await reader.cancel().catch(() => {});
  // ...and released (ping timer cleared, listener removed) once it goes away.
  await until(() => listeners() === 0, 3_000);
  await server.shutdown();
  await ctx.close();
});
