// A small version of bench/load.ts: the service (main.ts, a child process, at most 2 simulations at
// once) serves 100 watchers of simulation event streams (each keeps one open while simulations
// run, opening the next after a random pause of up to 250 ms) while 10 clients start simulations
// (so 429s with Retry-After come, and are honoured), run uploads go on, and /healthz is probed
// every 20 ms from a thread of its own.
import assert from "node:assert/strict";
import { fittedSimulator, rssOf, runLoad, startService } from "../../bench/load.ts";
import { testBackend } from "../helpers/gpu.ts";

Deno.test("load: 100 watchers get every step, 429s carry Retry-After, /healthz stays fast", async () => {
  // The tests' backend: on the CPU one a simulation ends before 100 watchers have connected.
  const service = await startService({
    SIMFLUENCE_MAX_SIMULATIONS: "2",
    SIMFLUENCE_BACKEND: testBackend(),
  });
  try {
    const prepared = await fittedSimulator(service.baseUrl);
    const figures = await runLoad({
      baseUrl: service.baseUrl,
      ...prepared,
      watchers: 100,
      starters: 10,
      steps: 200,
      chunkSteps: 10,
      uploaders: 1,
      healthzIntervalMs: 20,
      connectJitterMs: 250,
      rss: () => rssOf(service.pid),
    });
    console.log(JSON.stringify(figures));
    assert.equal(figures.watchersComplete, 100, "every watcher receives every step");
    assert.equal(figures.sessionsComplete, figures.watchSessions);
    assert.equal(figures.peakOpenStreams, 100, "all watchers were connected at once");
    assert.equal(figures.simulationsWatched, 10, "every simulation was watched to its end");
    assert.equal(figures.stepsMissing, 0);
    assert.equal(figures.serverErrors, 0);
    assert.ok(figures.rateLimited > 0, "ten starters against a limit of two get 429s");
    assert.equal(figures.retryAfterMissing, 0, "every 429 says Retry-After");
    assert.ok(figures.uploads > 0 && figures.uploadFailures === 0);
    assert.equal(figures.healthz.failures, 0);
    assert.ok(figures.healthz.p99Ms < 250, `/healthz p99 ${figures.healthz.p99Ms} ms`);
    assert.ok(figures.peakRssMiB < 1024, `peak RSS ${figures.peakRssMiB} MiB`);
  } finally {
    await service.stop();
  }
});
