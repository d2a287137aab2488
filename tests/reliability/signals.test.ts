// The launcher forwards signals: Ctrl-C (SIGINT to the terminal's whole process group) and a
// process manager's SIGTERM to the task alone both stop the service gracefully, with exit code 0,
// and a running job ends `cancelled` (not `interrupted`, which would mean the process died).
import assert from "node:assert/strict";
import { ServiceProcess } from "../helpers/service_process.ts";

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

for (const [signal, target] of [["SIGINT", "group"], ["SIGTERM", "task"]] as const) {
  Deno.test(`${signal} to the ${target} stops the service gracefully`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "simfluence-signals-" });
    let service = await ServiceProcess.start({ dataDir });
    try {
      const model = (await service.api("POST", "/v1/models", { config: TINY, seed: 1 })).body.id;
      const started = await service.api("POST", "/v1/training-runs", {
        study: "s",
        model,
        dataset: "builtin:skills",
        trainExamples: 8,
        testExamples: 2,
        runs: 1,
        steps: 100_000,
        batchSize: 2,
        optimizer: { kind: "sgd", lr: 0.01 },
      });
      assert.equal(started.status, 202, started.text);
      await service.waitJob(started.body.job, (j) => (j.progress?.details?.runStep ?? 0) > 0);
      assert.equal(await service.stop(signal, target), 0, service.log);
      service = await ServiceProcess.start({ dataDir });
      const job = await service.api("GET", `/v1/jobs/${started.body.job}`);
      assert.equal(job.body.status, "cancelled", JSON.stringify(job.body));
    } finally {
      await service.kill();
      await Deno.remove(dataDir, { recursive: true });
    }
  });
}
