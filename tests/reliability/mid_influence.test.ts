// SIGKILL while influence factors, then scores, are computed: after restart the job and the record
// are failed ("interrupted") and no file of theirs is left; POST /v1/jobs/:id/resume starts the
// same request again as a new record, which completes.
import assert from "node:assert/strict";
import { ServiceProcess, tensorFilesOnDisk } from "../helpers/service_process.ts";

const TINY = { vocab_size: 257, n_positions: 64, n_embd: 16, n_layer: 1, n_head: 2 };
const EXAMPLES = 60;

function dataset(): string {
  const words = ["the", "model", "learns", "adds", "numbers", "quickly", "slowly", "and", "then"];
  return Array.from({ length: EXAMPLES }, (_, i) => {
    const text = Array.from({ length: 4 + (i % 4) }, (_, k) => words[(i * 7 + k * 3) % 9]);
    return JSON.stringify({ id: `x${i}`, text: text.join(" ") });
  }).join("\n");
}

/** Kills the service while `job` runs, restarts it, and checks the job and its record failed. */
async function killWhileRunning(
  service: ServiceProcess,
  job: string,
  record: string,
): Promise<ServiceProcess> {
  const running = await service.waitJob(job, (j) => j.status === "running");
  assert.equal(running.status, "running", "the job finished before it could be killed");
  await new Promise((r) => setTimeout(r, 200));
  await service.kill();
  const restarted = await ServiceProcess.start({ dataDir: service.dataDir });
  const after = await restarted.api("GET", `/v1/jobs/${job}`);
  assert.equal(after.body.status, "failed");
  assert.equal(after.body.error, "interrupted");
  const stored = await restarted.api("GET", record);
  assert.equal(stored.body.status, "failed", stored.text);
  return restarted;
}

Deno.test("killed mid-factors and mid-scores: interrupted, nothing left; resume completes", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-influence-" });
  let service = await ServiceProcess.start({ dataDir });
  try {
    const model = (await service.api("POST", "/v1/models", { config: TINY, seed: 1 })).body.id;
    const upload = await service.api("POST", "/v1/datasets?name=words", dataset(), {
      "content-type": "application/x-ndjson",
    });
    assert.equal(upload.status, 201, upload.text);
    const files = tensorFilesOnDisk(dataDir).length; // the model's weights

    const factors = await service.api("POST", "/v1/influence/factors", {
      model,
      dataset: upload.body.id,
    });
    assert.equal(factors.status, 202, factors.text);
    const factorsPath = `/v1/influence/factors/${factors.body.factors.id}`;
    service = await killWhileRunning(service, factors.body.job, factorsPath);
    assert.equal(tensorFilesOnDisk(dataDir).length, files);
    const refit = await service.api("POST", `/v1/jobs/${factors.body.job}/resume`);
    assert.equal(refit.status, 202, refit.text);
    assert.equal((await service.waitJob(refit.body.job)).status, "succeeded");
    const ready = await service.api("GET", `/v1/influence/factors/${refit.body.factors}`);
    assert.equal(ready.body.status, "ready");

    const scores = await service.api("POST", "/v1/influence/scores", {
      factors: refit.body.factors,
      queries: { dataset: upload.body.id },
    });
    assert.equal(scores.status, 202, scores.text);
    const scoresPath = `/v1/influence/scores/${scores.body.scores.id}`;
    service = await killWhileRunning(service, scores.body.job, scoresPath);
    assert.equal(tensorFilesOnDisk(dataDir).length, files + 1); // + the factors
    const rescored = await service.api("POST", `/v1/jobs/${scores.body.job}/resume`);
    assert.equal(rescored.status, 202, rescored.text);
    assert.equal((await service.waitJob(rescored.body.job)).status, "succeeded");
    const matrix = await service.api("GET", `/v1/influence/scores/${rescored.body.scores}/matrix`);
    assert.equal(matrix.status, 200, matrix.text.slice(0, 300));
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
