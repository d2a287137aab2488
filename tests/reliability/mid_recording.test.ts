// SIGKILL while a training-runs job records: once between runs, once inside a run after one of its
// checkpoints was written. After each restart the job is failed ("interrupted") and its result
// names the runs it kept; those runs and their checkpoints are intact; the unfinished run and its
// checkpoint files are gone. POST /v1/jobs/:id/resume then records only the missing runs with the
// same seeds, and the study ends as an uninterrupted job leaves it.
import assert from "node:assert/strict";
import { ServiceProcess, tensorFilesOnDisk } from "../helpers/service_process.ts";

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };
const RUNS = 3;
// Long enough after the first checkpoint that the kill lands inside the run on a fast device too.
const STEPS = 20;
const CHECKPOINT_EVERY = 4;

function request(model: string) {
  return {
    study: "recorded",
    model,
    dataset: "builtin:skills",
    trainExamples: 12,
    testExamples: 4,
    runs: RUNS,
    steps: STEPS,
    batchSize: 4,
    optimizer: { kind: "adamw", lr: 0.01 },
    curriculum: "subsample",
    subsampleFraction: 0.5,
    seed: 3,
    checkpointEvery: CHECKPOINT_EVERY,
    namePrefix: "rec",
  };
}

async function createModel(service: ServiceProcess): Promise<string> {
  const res = await service.api("POST", "/v1/models", { config: TINY, seed: 1 });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

interface RunExport {
  name: string;
  steps: { batch: string[] }[];
  losses: number[][];
}

/** Every run of the study by name, as exported (curriculum and losses). */
async function studyRuns(service: ServiceProcess): Promise<Map<string, RunExport>> {
  const list = await service.api("GET", "/v1/runs?study=recorded&limit=100");
  assert.equal(list.status, 200, list.text);
  const out = new Map<string, RunExport>();
  for (const run of list.body.runs) {
    const exported = await service.api("GET", `/v1/runs/${run.id}?format=json`);
    assert.equal(exported.status, 200, exported.text);
    out.set(run.name, exported.body);
  }
  return out;
}

/**
 * The store after a kill and restart: the job failed as interrupted, its result names exactly the
 * runs in the study, each with every checkpoint (downloaded, so checksum-verified), and the
 * tensor directory holds exactly the model's file and those runs' files: nothing unowned.
 */
async function checkAfterRestart(service: ServiceProcess, jobId: string, kept: number) {
  const job = await service.api("GET", `/v1/jobs/${jobId}`);
  assert.equal(job.body.status, "failed");
  assert.equal(job.body.error, "interrupted");
  const list = await service.api("GET", "/v1/runs?study=recorded&limit=100");
  const names = list.body.runs.map((r: { name: string }) => r.name).sort();
  assert.deepEqual(names, Array.from({ length: kept }, (_, r) => `rec-${r}`));
  const resultIds = (job.body.result?.runs ?? []).map((r: { id: string }) => r.id);
  for (const id of resultIds) {
    assert.ok(list.body.runs.some((r: { id: string }) => r.id === id), `result names ${id}`);
  }
  let files = 1; // the model's weights
  for (const run of list.body.runs) {
    const checkpoints = await service.api("GET", `/v1/runs/${run.id}/checkpoints`);
    const steps = checkpoints.body.checkpoints.map((c: { step: number }) => c.step);
    assert.deepEqual(steps, [4, 8, 12, 16, 20]);
    for (const step of steps) {
      const res = await fetch(`${service.url}/v1/runs/${run.id}/checkpoints/${step}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    files += 1 + steps.length; // losses and checkpoints
  }
  assert.equal(tensorFilesOnDisk(service.dataDir).length, files, "unowned tensor files remain");
  return resultIds.length;
}

Deno.test("killed while recording: finished runs kept, unfinished gone; resume completes it", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-recording-" });
  const referenceDir = await Deno.makeTempDir({ prefix: "simfluence-recording-ref-" });
  let service = await ServiceProcess.start({ dataDir });
  try {
    const model = await createModel(service);
    const started = await service.api("POST", "/v1/training-runs", request(model));
    assert.equal(started.status, 202, started.text);
    const first = started.body.job;

    await t.step("between runs", async () => {
      // Run 0 stored and run 1 begun: kill before run 1 writes a checkpoint if the poll is quick.
      await service.waitJob(first, (j) => (j.progress?.details?.run ?? 0) >= 1);
      await service.kill();
      service = await ServiceProcess.start({ dataDir });
      assert.equal(await checkAfterRestart(service, first, 1), 1);
    });

    let second = "";
    await t.step("resume, then killed inside a run after its checkpoint", async () => {
      const resumed = await service.api("POST", `/v1/jobs/${first}/resume`);
      assert.equal(resumed.status, 202, resumed.text);
      assert.deepEqual(resumed.body.skipped, [0]);
      second = resumed.body.job;
      await service.waitJob(
        second,
        (j) => j.progress?.details?.run === 2 && j.progress.details.runStep > CHECKPOINT_EVERY,
      );
      await service.kill();
      service = await ServiceProcess.start({ dataDir });
      assert.equal(await checkAfterRestart(service, second, 2), 1);
      // Resumed again: the third job records the last run.
      assert.equal((await service.api("POST", `/v1/jobs/${second}/resume`)).status, 202);
    });

    await t.step("the resumed study equals an uninterrupted one", async () => {
      const jobs = await service.api("GET", "/v1/jobs?kind=training-runs");
      const last = jobs.body.jobs[0];
      assert.equal(last.input.resumes, second);
      const done = await service.waitJob(last.id);
      assert.equal(done.status, "succeeded", JSON.stringify(done.error));
      assert.deepEqual(done.result.skipped, [0, 1]);
      assert.equal((await service.api("POST", `/v1/jobs/${last.id}/resume`)).status, 409);
      const resumed = await studyRuns(service);
      await service.kill();

      const reference = await ServiceProcess.start({ dataDir: referenceDir });
      let uninterrupted: Map<string, RunExport>;
      try {
        const job = await reference.api(
          "POST",
          "/v1/training-runs",
          request(await createModel(reference)),
        );
        assert.equal((await reference.waitJob(job.body.job)).status, "succeeded");
        uninterrupted = await studyRuns(reference);
      } finally {
        await reference.kill();
      }
      assert.deepEqual([...resumed.keys()].sort(), ["rec-0", "rec-1", "rec-2"]);
      for (const [name, run] of uninterrupted) {
        const other = resumed.get(name)!;
        assert.deepEqual(other.steps.map((s) => s.batch), run.steps.map((s) => s.batch), name);
        run.losses.forEach((row, i) =>
          row.forEach((loss, j) => {
            const got = other.losses[i][j];
            assert.ok(
              Math.abs(got - loss) <= 1e-5 * Math.max(1, Math.abs(loss)),
              `${name} [${i}][${j}]`,
            );
          })
        );
      }
    });
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(referenceDir, { recursive: true });
  }
});
