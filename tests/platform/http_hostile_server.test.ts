// Hostile clients against a real listening server (Deno.serve on an ephemeral port): a body that
// is one endless NDJSON line, a chunked body past the size limit, and bodies that never finish
// (slowloris). Each must be cut off within a stated time while /healthz keeps answering at once.
import assert from "node:assert/strict";
import { testApp } from "../helpers/app.ts";

/** The idle timeout the slowloris tests run under (production: BODY_IDLE_TIMEOUT_MS, 30 s). */
const IDLE_MS = 300;
/** Generous on 2 shared cores (alone here they take 0.5–2 s; before the fix, 7 s and 38 s). */
const QUICK_MS = 5_000;
/** A health check that waits longer than this means the event loop was blocked. */
const HEALTHY_MS = 1_000;

async function withServer(
  options: Parameters<typeof testApp>[0],
  body: (base: string, port: number) => Promise<void>,
): Promise<void> {
  const ctx = await testApp(options);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, ctx.app.fetch);
  try {
    await body(`http://127.0.0.1:${server.addr.port}`, server.addr.port);
  } finally {
    await server.shutdown();
    await ctx.close();
  }
}

/** `total` bytes of `unit` repeated, as a stream of 64 KiB chunks (no Content-Length). */
function repeated(unit: string, total: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode(unit.repeat(Math.ceil(65_536 / unit.length)));
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
}

/**
 * A stream of `unit` in 64 KiB chunks that ends only when told to (so the server can shut down
 * once the test has its answer); `sent()` says how many bytes it produced.
 */
function endless(unit: string) {
  const chunk = new TextEncoder().encode(unit.repeat(Math.ceil(65_536 / unit.length)));
  let sent = 0;
  let stopped = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stopped) return controller.close();
      controller.enqueue(chunk);
      sent += chunk.length;
    },
  });
  return { stream, sent: () => sent, stop: () => (stopped = true) };
}

/** Times /healthz every 50 ms until `stop` resolves; returns the slowest answer. */
async function slowestHealthCheck(base: string, stop: Promise<unknown>): Promise<number> {
  let done = false;
  stop.finally(() => (done = true));
  let slowest = 0;
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.body?.cancel();
    assert.equal(res.status, 200);
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((r) => setTimeout(r, 50));
  }
  return slowest;
}

async function postStream(url: string, type: string, body: ReadableStream<Uint8Array>) {
  const started = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
  const json = await res.json();
  return { status: res.status, json, ms: performance.now() - started };
}

Deno.test("a 30 MB single-line NDJSON body is refused quickly and blocks no other request", () =>
  withServer({}, async (base) => {
    const upload = postStream(
      `${base}/v1/runs`,
      "application/x-ndjson",
      repeated(" ", 30 * 1024 * 1024),
    );
    const slowest = await slowestHealthCheck(base, upload);
    const { status, json, ms } = await upload;
    assert.equal(status, 413, JSON.stringify(json));
    assert.equal(json.error.code, "line_too_long");
    assert.equal(json.error.details.line, 1);
    assert.ok(ms < QUICK_MS, `answered after ${ms.toFixed(0)} ms`);
    assert.ok(slowest < HEALTHY_MS, `/healthz took ${slowest.toFixed(0)} ms meanwhile`);
  }));

Deno.test("a chunked body over the 64 MB limit gets its 413 as soon as it crosses it", () =>
  withServer({}, async (base) => {
    // Short blank lines: only the byte count can stop this body.
    const upload = postStream(
      `${base}/v1/runs`,
      "application/x-ndjson",
      repeated(" ".repeat(999) + "\n", 70 * 1024 * 1024),
    );
    const slowest = await slowestHealthCheck(base, upload);
    const { status, json, ms } = await upload;
    assert.equal(status, 413, JSON.stringify(json));
    assert.equal(json.error.code, "payload_too_large");
    assert.ok(ms < QUICK_MS, `answered after ${ms.toFixed(0)} ms`);
    assert.ok(slowest < HEALTHY_MS, `/healthz took ${slowest.toFixed(0)} ms meanwhile`);
    // The same with a JSON body the route parses whole.
    const json2 = await postStream(
      `${base}/v1/runs`,
      "application/json",
      repeated("[", 70 * 1024 * 1024),
    );
    assert.equal(json2.status, 413, JSON.stringify(json2.json));
    assert.ok(json2.ms < QUICK_MS, `answered after ${json2.ms.toFixed(0)} ms`);
  }));

Deno.test("a chunked body that never ends gets its 413 once it crosses the limit", () =>
  withServer({ env: { SIMFLUENCE_MAX_BODY_MB: "4" } }, async (base) => {
    for (const [type, unit] of [["application/x-ndjson", " \n"], ["application/json", "["]]) {
      const body = endless(unit);
      const { status, json, ms } = await postStream(`${base}/v1/runs`, type, body.stream);
      body.stop();
      assert.equal(status, 413, JSON.stringify(json));
      assert.equal(json.error.code, "payload_too_large");
      assert.ok(ms < QUICK_MS, `${type}: answered after ${ms.toFixed(0)} ms`);
      // Read ahead by the client and the pipes, but nowhere near without end.
      assert.ok(body.sent() < 32 * 1024 * 1024, `${type}: ${body.sent()} bytes were sent`);
    }
  }));

/** Sends `head` over a raw socket, then nothing; returns what the server wrote and when it ended. */
async function stallAfter(port: number, head: string, waitMs: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = performance.now();
  try {
    await conn.write(new TextEncoder().encode(head));
    const received: Uint8Array[] = [];
    const buffer = new Uint8Array(4096);
    const deadline = setTimeout(() => conn.close(), waitMs);
    try {
      while (true) {
        const n = await conn.read(buffer);
        if (n === null) break;
        received.push(buffer.slice(0, n));
        const text = new TextDecoder().decode(received.at(-1));
        // One full answer is enough: the server may keep the socket open for the rest.
        if (/\r\n\r\n[\s\S]*\}\s*$/.test(text) || text.includes("\r\n0\r\n\r\n")) break;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted)) throw e;
    } finally {
      clearTimeout(deadline);
    }
    const text = new TextDecoder().decode(
      received.reduce((a, b) => new Uint8Array([...a, ...b]), new Uint8Array()),
    );
    return { text, ms: performance.now() - started };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the deadline */ }
  }
}

const SLOW_BODIES: [string, string][] = [
  [
    "NDJSON run, Content-Length never reached",
    "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n" +
    'Content-Length: 100000\r\n\r\n{"study": "s1", "na',
  ],
  [
    "JSON run, chunked without the last chunk",
    "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
    'Transfer-Encoding: chunked\r\n\r\n6\r\n{"stud\r\n',
  ],
  [
    "multipart import, boundary never closed",
    "POST /v1/runs/import HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n" +
    'Content-Length: 5000\r\n\r\n--b\r\nContent-Disposition: form-data; name="study"\r\n\r\ns1',
  ],
  [
    "dataset upload, Content-Length never reached",
    "POST /v1/datasets?name=slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n" +
    'Content-Length: 100000\r\n\r\n{"text": "a',
  ],
];

Deno.test("bodies that never finish are cut off after the idle timeout with a 408", () =>
  withServer({ bodyIdleTimeoutMs: IDLE_MS }, async (base, port) => {
    // Each kind of stalled body twelve times at once: 48 connections held open.
    const bodies = Array.from({ length: 12 }, () => SLOW_BODIES).flat();
    const stalls = bodies.map(([, head]) => stallAfter(port, head, IDLE_MS + QUICK_MS));
    const slowest = await slowestHealthCheck(base, Promise.all(stalls));
    const answers = await Promise.all(stalls);
    answers.forEach(({ text, ms }, i) => {
      const label = bodies[i][0];
      assert.match(text, /^HTTP\/1\.1 408/, `${label}: ${text.slice(0, 300) || "(nothing)"}`);
      assert.match(text, /"code":"request_timeout"/, label);
      assert.ok(ms >= IDLE_MS * 0.9, `${label}: answered after ${ms.toFixed(0)} ms`);
      assert.ok(ms < IDLE_MS + QUICK_MS, `${label}: answered after ${ms.toFixed(0)} ms`);
    });
    assert.ok(slowest < HEALTHY_MS, `/healthz took ${slowest.toFixed(0)} ms meanwhile`);
  }));

Deno.test("a body that trickles in under the minimum rate is cut off with a 408", () =>
  withServer({ bodyIdleTimeoutMs: IDLE_MS }, async (_base, port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const encoder = new TextEncoder();
    const started = performance.now();
    let stop = false;
    try {
      await conn.write(encoder.encode(
        "POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n" +
          "Content-Length: 100000\r\n\r\n",
      ));
      // One byte every 50 ms: never idle for IDLE_MS, but 20 bytes/s.
      const trickle = (async () => {
        while (!stop) {
          await conn.write(encoder.encode(" ")).catch(() => (stop = true));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const buffer = new Uint8Array(4096);
      const n = await Promise.race([
        conn.read(buffer),
        new Promise<null>((r) => setTimeout(() => r(null), IDLE_MS + QUICK_MS)),
      ]);
      stop = true;
      await trickle;
      const text = n ? new TextDecoder().decode(buffer.subarray(0, n)) : "(nothing)";
      const ms = performance.now() - started;
      assert.match(text, /^HTTP\/1\.1 408/, text.slice(0, 300));
      assert.match(text, /bytes\/s/);
      assert.ok(ms < IDLE_MS + QUICK_MS, `answered after ${ms.toFixed(0)} ms`);
    } finally {
      stop = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }));
