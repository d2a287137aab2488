// SIGKILL while a Simfluence fit runs: after restart the job is failed with "interrupted", the
// simulator is not left fitting, and every run exports byte for byte as before. Resuming the job
// fits again from the same request.
import assert from "node:assert/strict";
import { ServiceProcess } from "../helpers/service_process.ts";

const RUNS = 8;
const STEPS = 300;
const BATCH = 16;
const TRAIN_IDS = 3000;
const TESTS = 48;

/** A deterministic synthetic run: enough unknowns that the fit takes a while on llvmpipe. */
function syntheticRun(r: number) {
  let state = 12345 + r * 7919;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  const steps = Array.from({ length: STEPS }, () => ({
    batch: Array.from({ length: BATCH }, () => `e${Math.floor(random() * TRAIN_IDS)}`),
  }));
  const losses = [Array.from({ length: TESTS }, () => 3 + random())];
  for (let t = 1; t <= STEPS; t++) {
    losses.push(losses[t - 1].map((l) => l - 0.002 * random() + 0.0005));
  }
  return {
    study: "fit",
    name: `run-${r}`,
    testExamples: Array.from({ length: TESTS }, (_, j) => `q${j}`),
    steps,
    losses,
  };
}

async function exports(service: ServiceProcess, ids: string[]): Promise<string[]> {
  return await Promise.all(ids.map(async (id) => {
    const res = await service.api("GET", `/v1/runs/${id}?format=ndjson`);
    assert.equal(res.status, 200, res.text);
    return res.text;
  }));
}

Deno.test("killed mid-fit: job interrupted, simulator failed, runs unchanged; resume fits", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-fit-" });
  let service = await ServiceProcess.start({ dataDir });
  try {
    const ids: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      const res = await service.api("POST", "/v1/runs", syntheticRun(r));
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id);
    }
    const before = await exports(service, ids);
    const fit = await service.api("POST", "/v1/simulators", {
      study: "fit",
      kind: "linear",
      trainRuns: ids.slice(0, 6),
      validationRuns: ids.slice(6),
    });
    assert.equal(fit.status, 202, fit.text);
    const running = await service.waitJob(fit.body.job, (j) => j.status === "running");
    assert.equal(running.status, "running", "the fit finished before it could be killed");
    await new Promise((r) => setTimeout(r, 100)); // into the solve
    await service.kill();

    service = await ServiceProcess.start({ dataDir });
    const job = await service.api("GET", `/v1/jobs/${fit.body.job}`);
    assert.equal(job.body.status, "failed");
    assert.equal(job.body.error, "interrupted");
    const simulator = await service.api("GET", `/v1/simulators/${fit.body.simulator.id}`);
    assert.equal(simulator.status, 200);
    assert.notEqual(simulator.body.status, "fitting");
    assert.deepEqual(await exports(service, ids), before);

    const resumed = await service.api("POST", `/v1/jobs/${fit.body.job}/resume`);
    assert.equal(resumed.status, 202, resumed.text);
    assert.notEqual(resumed.body.simulator, fit.body.simulator.id);
    const done = await service.waitJob(resumed.body.job, undefined, 300_000);
    assert.equal(done.status, "succeeded", done.error);
    const refit = await service.api("GET", `/v1/simulators/${resumed.body.simulator}`);
    assert.equal(refit.body.status, "ready");
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
