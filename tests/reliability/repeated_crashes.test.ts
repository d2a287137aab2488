// 20 SIGKILLs at seeded random moments of a mixed workload (JSON uploads, a streaming NDJSON
// upload that never finishes, training-runs jobs with checkpoints, Simfluence fits). After each
// restart: /readyz is 200; every acknowledged run reads back exactly as sent (the service checks
// each file's SHA-256 on read); every run a training job reported kept is there with all its
// checkpoints; no unfinished upload exists; no job is left running; no temporary file remains,
// and every tensor file on disk has a row that something owns, and the reverse.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { SqliteDatabase } from "../../src/store/sql/sqlite_database.ts";
import { tensorOwnerColumns } from "../../src/store/tensor_gc.ts";
import { filesUnder, ServiceProcess } from "../helpers/service_process.ts";

// A longer soak: SIMFLUENCE_CRASH_KILLS=200 SIMFLUENCE_CRASH_SEED=7 deno test -A <this file>.
const KILLS = Number(Deno.env.get("SIMFLUENCE_CRASH_KILLS") ?? 20);
const SEED = Number(Deno.env.get("SIMFLUENCE_CRASH_SEED") ?? 20261202);
const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface SentRun {
  name: string;
  batches: string[][];
  /** Multiples of 1/8, exact in float32. */
  losses: number[][];
}

function makeRun(name: string, random: () => number): SentRun {
  const steps = 5 + Math.floor(random() * 20);
  return {
    name,
    batches: Array.from({ length: steps }, () => [`e${Math.floor(random() * 50)}`]),
    losses: Array.from({ length: steps + 1 }, () => [Math.floor(random() * 64) / 8, 1.5]),
  };
}

function uploadBody(run: SentRun) {
  return {
    study: "crash",
    name: run.name,
    testExamples: ["q1", "q2"],
    steps: run.batches.map((batch) => ({ batch })),
    losses: run.losses,
  };
}

/** Store-level invariants, read from the database while the service runs (WAL allows it). */
function checkFiles(dataDir: string): void {
  const all = filesUnder(dataDir);
  assert.deepEqual(all.filter((f) => f.endsWith(".partial")), [], "temporary files remain");
  const db = new DatabaseSync(join(dataDir, "simfluence.db"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT id, file FROM tensor_files").all() as {
      id: string;
      file: string;
    }[];
    const owned = new Set<string>();
    for (const { table, column } of tensorOwnerColumns(new SqliteDatabase(db))) {
      for (const row of db.prepare(`SELECT "${column}" AS t FROM "${table}"`).all()) {
        owned.add((row as { t: string }).t);
      }
    }
    const unowned = rows.filter((r) => !owned.has(r.id));
    assert.deepEqual(unowned, [], "tensor files that nothing owns");
    const onDisk = all.filter((f) => f.startsWith("tensors/")).map((f) => f.slice(8)).sort();
    assert.deepEqual(onDisk, rows.map((r) => r.file).sort(), "files and rows differ");
    const running = db.prepare(
      "SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')",
    ).get() as { n: number };
    assert.equal(running.n, 0, "a dead process's job is still running");
  } finally {
    db.close();
  }
}

/** Every run name of the study, page by page. */
async function runNames(service: ServiceProcess): Promise<Set<string>> {
  const names = new Set<string>();
  for (let offset = 0;; offset += 100) {
    const page = await service.api("GET", `/v1/runs?study=crash&limit=100&offset=${offset}`);
    assert.equal(page.status, 200, page.text);
    for (const run of page.body.runs) names.add(run.name);
    if (page.body.runs.length < 100) return names;
  }
}

Deno.test(`${KILLS} kills at random moments: every acknowledged object intact after each restart`, async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-crashes-" });
  const random = mulberry32(SEED);
  const acknowledged = new Map<string, SentRun>(); // run id → what was sent
  const unfinished: string[] = []; // names of uploads whose body never ended
  const keptRuns = new Set<string>(); // runs that training jobs' results name
  const readySimulators = new Set<string>();
  let service = await ServiceProcess.start({ dataDir });
  try {
    const model = (await service.api("POST", "/v1/models", { config: TINY, seed: 1 })).body.id;
    assert.ok(model);
    for (let kill = 0; kill < KILLS; kill++) {
      let alive = true;
      const work: Promise<unknown>[] = [];
      // Uploads, one after another, until the kill.
      work.push((async () => {
        for (let i = 0; alive; i++) {
          const run = makeRun(`k${kill}-u${i}`, random);
          const res = await service.api("POST", "/v1/runs", uploadBody(run)).catch(() => null);
          if (res?.status === 201) acknowledged.set(res.body.id, run);
          else if (res) assert.fail(`upload answered ${res.status}: ${res.text}`);
        }
      })());
      // An NDJSON upload whose body never ends.
      const name = `k${kill}-stream`;
      unfinished.push(name);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          const header = {
            study: "crash",
            name,
            testExamples: ["q1", "q2"],
            initialLosses: [1, 2],
          };
          controller.enqueue(new TextEncoder().encode(JSON.stringify(header) + "\n"));
        },
      });
      work.push(
        fetch(`${service.url}/v1/runs`, {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        }).catch(() => null),
      );
      // Every other round a training job, otherwise a fit when there are runs to fit.
      if (kill % 2 === 0) {
        work.push(
          service.api("POST", "/v1/training-runs", {
            study: `trained-${kill}`,
            model,
            dataset: "builtin:skills",
            trainExamples: 8,
            testExamples: 2,
            runs: 2,
            steps: 6,
            batchSize: 2,
            optimizer: { kind: "sgd", lr: 0.05 },
            seed: kill,
            checkpointEvery: 3,
          }).catch(() => null),
        );
      } else if (acknowledged.size >= 3) {
        const ids = [...acknowledged.keys()].slice(-3);
        work.push(
          service.api("POST", "/v1/simulators", { study: "crash", kind: "linear", trainRuns: ids })
            .catch(() => null),
        );
      }
      await new Promise((r) => setTimeout(r, 150 + random() * 1200));
      alive = false;
      await service.kill();
      await Promise.all(work);

      service = await ServiceProcess.start({ dataDir });
      const ready = await service.api("GET", "/readyz");
      assert.equal(ready.status, 200, `kill ${kill}: ${ready.text}`);
      checkFiles(dataDir);
      for (const [id, sent] of acknowledged) {
        const got = await service.api("GET", `/v1/runs/${id}?format=json`);
        assert.equal(got.status, 200, `kill ${kill}, run ${sent.name}: ${got.text}`);
        assert.equal(got.body.name, sent.name);
        assert.deepEqual(got.body.steps.map((s: { batch: string[] }) => s.batch), sent.batches);
        assert.deepEqual(got.body.losses, sent.losses);
      }
      const names = await runNames(service);
      for (const n of unfinished) assert.ok(!names.has(n), `unfinished upload ${n} exists`);
      // The model's weights and every fitted simulator's parameters read back (checksummed).
      const weights = await fetch(`${service.url}/v1/models/${model}/weights`);
      assert.equal(weights.status, 200, `kill ${kill}: the model's weights`);
      await weights.arrayBuffer();
      const simulators = await service.api("GET", "/v1/simulators?limit=100");
      for (const simulator of simulators.body.simulators) {
        assert.notEqual(simulator.status, "fitting", `kill ${kill}: simulator left fitting`);
        if (simulator.status !== "ready") continue;
        readySimulators.add(simulator.id);
        const read = await service.api("GET", `/v1/simulators/${simulator.id}/influence?test=q1`);
        assert.equal(read.status, 200, `kill ${kill}, simulator ${simulator.id}: ${read.text}`);
      }
      const jobs = await service.api("GET", "/v1/jobs?kind=training-runs&limit=100");
      for (const job of jobs.body.jobs) {
        for (const kept of job.result?.runs ?? []) {
          keptRuns.add(kept.id);
          const checkpoints = await service.api("GET", `/v1/runs/${kept.id}/checkpoints`);
          assert.equal(checkpoints.status, 200, `kept run ${kept.id} of job ${job.id} is gone`);
          assert.deepEqual(checkpoints.body.checkpoints.map((c: { step: number }) => c.step), [
            3,
            6,
          ]);
        }
      }
    }
    const interrupted = await service.api("GET", "/v1/jobs?status=failed&limit=100");
    console.log(
      `${KILLS} kills survived: ${acknowledged.size} acknowledged uploads intact, ` +
        `${keptRuns.size} recorded training runs intact with their checkpoints, ` +
        `${readySimulators.size} fitted simulators readable, ` +
        `${
          interrupted.body.jobs.filter((j: { error: string }) => j.error === "interrupted").length
        } jobs interrupted, ` +
        `${unfinished.length} unfinished uploads absent`,
    );
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
