// Probes GET /healthz every `intervalMs` on a thread of its own, so the latencies measure the
// service and not the load clients sharing the bench's event loop. Started by bench/load.ts:
// post {url, intervalMs} to start (it answers "ready" after a warm-up probe) and "stop" to get
// {latencies, failures, serverErrors} back.
/// <reference lib="deno.worker" />

let running = false;
const latencies: number[] = [];
let failures = 0;
let serverErrors = 0;

self.onmessage = async (message: MessageEvent) => {
  if (message.data === "stop") {
    running = false;
    return;
  }
  const { url, intervalMs } = message.data as { url: string; intervalMs: number };
  running = true;
  // The first probe opens the connection and warms the worker up: not a figure.
  await (await fetch(url)).body?.cancel();
  self.postMessage("ready");
  while (running) {
    const started = performance.now();
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status >= 500) serverErrors++;
      if (res.status !== 200) failures++;
    } catch {
      failures++;
    }
    latencies.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  self.postMessage({ latencies, failures, serverErrors });
};
