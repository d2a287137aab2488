// Latency of a streamed simulation through the HTTP app: request → first `step` event, next to
// request → complete JSON answer for the same curriculum (the non-streaming baseline).
import { median } from "../src/gpu/autotune.ts";
import { createApp } from "../src/app.ts";
import { parseConfig } from "../src/config.ts";
import { gpuFromRuntime } from "../src/gpu/handle.ts";
import type { GpuRuntime } from "../src/gpu/runtime.ts";
import { JobManager } from "../src/jobs/manager.ts";
import { memoryLogger } from "../src/log.ts";
import { generateRuns, randomModel } from "../src/simfluence/math/synthetic.ts";
import { SqliteStore } from "../src/store/sqlite.ts";
import type { BenchFigure, BenchSuite } from "./suite.ts";
import { STORE_MODULES } from "../src/store_modules.ts";

async function post(
  app: ReturnType<typeof createApp>,
  path: string,
  body: unknown,
  accept?: string,
) {
  return await app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(accept ? { accept } : {}) },
    body: JSON.stringify(body),
  });
}

export const simulateSseSuite: BenchSuite = {
  name: "simulate-sse",
  async run(rt: GpuRuntime, { quick }): Promise<BenchFigure[]> {
    const n = 200;
    const m = 200;
    const steps = 100;
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-bench-" });
    const store = SqliteStore.open({ dataDir, modules: STORE_MODULES });
    const logger = memoryLogger();
    const jobs = new JobManager({ store: store.jobs, logger });
    const app = createApp({
      config: parseConfig({ SIMFLUENCE_DATA_DIR: dataDir, SIMFLUENCE_MAX_BODY_MB: "256" }),
      store,
      gpu: gpuFromRuntime(rt, () => ({}), { ownsRuntime: false }),
      jobs,
      logger,
    });
    try {
      const model = randomModel(7, {
        n,
        m,
        aMean: -0.002,
        aSpread: 0.0005,
        bMean: 0.002,
        bSpread: 0.0005,
      });
      const initial = Float32Array.from({ length: m }, () => 2);
      const runs = generateRuns(8, model, { runs: 8, steps, batch: 8, noise: 1e-3, initial });
      const testIds = Array.from({ length: m }, (_, z) => `q${z}`);
      const runIds: string[] = [];
      for (const [r, run] of runs.entries()) {
        const losses = Array.from(
          { length: steps + 1 },
          (_, t) => Array.from(run.losses.subarray(t * m, (t + 1) * m)),
        );
        const res = await post(app, "/v1/runs", {
          study: "bench",
          name: `r${r}`,
          testExamples: testIds,
          steps: (run.batches as number[][]).map((b) => ({ batch: b.map((i) => `e${i}`) })),
          losses,
        });
        if (res.status !== 201) throw new Error(`run upload failed: ${await res.text()}`);
        runIds.push((await res.json()).id);
      }
      const fitRes = await post(app, "/v1/simulators", {
        study: "bench",
        kind: "linear",
        trainRuns: runIds,
        lambda: 0.01,
      });
      if (fitRes.status !== 202) throw new Error(`fit failed: ${await fitRes.text()}`);
      const fit = await fitRes.json();
      await (await app.request(`/v1/jobs/${fit.job}/events`)).text();
      const simulator = fit.simulator.id;
      const body = { fromRun: runIds[0], permute: 1 };
      const first: number[] = [];
      const full: number[] = [];
      for (let rep = 0; rep < (quick ? 5 : 11); rep++) {
        let t0 = performance.now();
        const res = await post(
          app,
          `/v1/simulators/${simulator}/simulate`,
          body,
          "text/event-stream",
        );
        const reader = res.body!.getReader();
        let text = "";
        while (!text.includes("event: step")) {
          const { value, done } = await reader.read();
          if (done) throw new Error("stream ended before a step event");
          text += new TextDecoder().decode(value);
        }
        first.push(performance.now() - t0);
        await reader.cancel();
        t0 = performance.now();
        await (await post(app, `/v1/simulators/${simulator}/simulate`, body)).json();
        full.push(performance.now() - t0);
      }
      return [{
        name: `simulate SSE, request → first step event (${m} tests x ${steps} steps, n=${n})`,
        unit: "ms",
        value: median(first),
        baselineName: "same request answered as complete JSON",
        baseline: median(full),
        speedup: median(full) / median(first),
        target: "<= 100 ms on the software adapter",
      }];
    } finally {
      await jobs.shutdown(2_000);
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
};
