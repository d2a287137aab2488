// A worker killed with SIGKILL in the middle of a training job, ten times at seeded moments: after
// the job's queue heartbeat expires (10 s here, pg-boss's minimum) another worker, or the killed
// node restarted under the same id, finishes it. Each time the study holds exactly the runs an
// uninterrupted job records (no run duplicated or lost), equal to them within 1e-5; the restarted
// node rejoins (GET /v1/nodes), and no job is ever run by two nodes at once.
import assert from "node:assert/strict";
import { TestCluster } from "../helpers/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";
import type { ServiceProcess } from "../helpers/service_process.ts";
import { createTinyModel, trainingRequest } from "./fixtures.ts";

const skip = !postgresAvailable && Deno.env.get("CI") !== "true";
const KILLS = 10;
const RUNS = 3;
const STEPS = 16;

interface RunExport {
  name: string;
  steps: { batch: string[] }[];
  losses: number[][];
}

async function studyRuns(node: ServiceProcess, study: string): Promise<RunExport[]> {
  const list = await node.api("GET", `/v1/runs?study=${study}&limit=100`);
  assert.equal(list.status, 200, list.text);
  const out: RunExport[] = [];
  for (const run of list.body.runs) {
    const exported = await node.api("GET", `/v1/runs/${run.id}?format=json`);
    assert.equal(exported.status, 200, exported.text);
    out.push(exported.body);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function assertSameRuns(got: RunExport[], want: RunExport[], what: string): void {
  assert.deepEqual(got.map((r) => r.name), want.map((r) => r.name), `${what}: run names`);
  want.forEach((run, k) => {
    const other = got[k];
    assert.deepEqual(other.steps.map((s) => s.batch), run.steps.map((s) => s.batch), run.name);
    run.losses.forEach((row, i) =>
      row.forEach((loss, j) => {
        const diff = Math.abs(other.losses[i][j] - loss);
        assert.ok(diff <= 1e-5 * Math.max(1, Math.abs(loss)), `${what} ${run.name}[${i}][${j}]`);
      })
    );
  });
}

/** A seeded generator in [0, 1) (an LCG; the seed fixes every kill time). */
function seeded(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Which node's heartbeat says it runs `job` (null when none yet). */
async function runnerOf(node: ServiceProcess, job: string): Promise<string | null> {
  const res = await node.api("GET", "/v1/nodes");
  return res.body.nodes.find((n: { job: string | null }) => n.job === job)?.id ?? null;
}

Deno.test({
  name: "a worker killed mid-training, 10 seeded times: another finishes it, runs as uninterrupted",
  ignore: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const cluster = await TestCluster.start({
      nodes: [{ id: "api", role: "api" }, { id: "w1", role: "worker" }, {
        id: "w2",
        role: "worker",
      }],
      env: { SIMFLUENCE_JOB_HEARTBEAT_SECONDS: "10" },
    });
    try {
      const api = cluster.node("api");
      const model = await createTinyModel(api);
      const request = (study: string) => ({ ...trainingRequest(model, RUNS, STEPS), study });

      // The reference: one uninterrupted job.
      const ref = await api.api("POST", "/v1/training-runs", request("reference"));
      assert.equal(ref.status, 202, ref.text);
      const t0 = performance.now();
      const refDone = await api.waitJob(ref.body.job);
      const duration = performance.now() - t0;
      assert.equal(refDone.status, "succeeded", refDone.error);
      const reference = await studyRuns(api, "reference");
      assert.equal(reference.length, RUNS);

      const random = seeded(19);
      const figures: string[] = [];
      for (let k = 0; k < KILLS; k++) {
        const study = `killed-${k}`;
        const started = await api.api("POST", "/v1/training-runs", request(study));
        assert.equal(started.status, 202, started.text);
        const id = started.body.job;
        await api.waitJob(id, (j) => j.status === "running");
        let runner = await runnerOf(api, id);
        for (let i = 0; runner === null && i < 50; i++) {
          await delay(20);
          runner = await runnerOf(api, id);
        }
        assert.ok(runner, `no node reports running ${id}`);
        // The kill time, as a step of the whole job (run * STEPS + step within the run), early
        // enough that polling sees it before the job ends (the last run included).
        const target = 1 + Math.floor(random() * (RUNS * STEPS - 6));
        const before = await api.waitJob(id, (j) => {
          const d = j.progress?.details;
          return d !== undefined && d !== null && d.run * STEPS + d.runStep >= target;
        });
        assert.equal(before.status, "running", `${study} finished before its kill`);
        const killedAt = performance.now();
        await cluster.kill(runner);
        // Back under the same id while its job waits for a retry; it may take the job itself.
        await cluster.startNode(runner);
        const done = await api.waitJob(id, undefined, 120_000);
        const resumedAfter = performance.now() - killedAt;
        assert.equal(done.status, "succeeded", `${study}: ${done.error}\n${cluster.logs()}`);
        assertSameRuns(await studyRuns(api, study), reference, study);
        const nodes = (await api.api("GET", "/v1/nodes")).body.nodes;
        const rejoined = nodes.find((n: { id: string }) => n.id === runner);
        assert.equal(rejoined.alive, true);
        figures.push(
          `${k}: killed ${runner} at step ${target} (seen run ${before.progress.details.run} ` +
            `step ${before.progress.details.runStep}), done ${
              (resumedAfter / 1000).toFixed(1)
            } s later`,
        );
      }
      console.log(`reference ${(duration / 1000).toFixed(1)} s\n${figures.join("\n")}`);
    } finally {
      await cluster.close();
    }
  },
});
