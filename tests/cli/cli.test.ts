// The CLI against a real service: upload, list, fit (following the job), evaluate, simulate to
// CSV, export and re-import, errors with the server's message and their exit codes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import type { Run } from "../../src/simfluence/math/types.ts";
import { runCli, runCliInTerminal, scriptPath, startService } from "./harness.ts";

const N = 10;
const M = 4;
const tests = Array.from({ length: M }, (_, z) => `q${z}`);

function studyRuns(): Run[] {
  const model = randomModel(11, {
    n: N,
    m: M,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.25 * z);
  return generateRuns(4, model, { runs: 7, steps: 20, batch: 3, noise: 1e-4, initial });
}

function lossRows(run: Run): number[][] {
  return Array.from(
    { length: run.batches.length + 1 },
    (_, t) => Array.from(run.losses.subarray(t * M, (t + 1) * M)),
  );
}

const batchIds = (run: Run) => (run.batches as number[][]).map((b) => b.map((i) => `e${i}`));

/** Runs 0–5 as JSON files (name from the file name), run 6 as NDJSON. */
async function writeRunFiles(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [r, run] of studyRuns().entries()) {
    const losses = lossRows(run);
    const batches = batchIds(run);
    if (r < 6) {
      const path = join(dir, `run-${r}.json`);
      await Deno.writeTextFile(
        path,
        JSON.stringify({
          study: "placeholder",
          testExamples: tests,
          steps: batches.map((batch) => ({ batch })),
          losses,
        }),
      );
      paths.push(path);
    } else {
      const path = join(dir, `run-${r}.ndjson`);
      const lines = [
        { study: "placeholder", name: "run-6", testExamples: tests, initialLosses: losses[0] },
        ...batches.map((batch, t) => ({ batch, losses: losses[t + 1] })),
      ];
      await Deno.writeTextFile(path, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
      paths.push(path);
    }
  }
  return paths;
}

Deno.test("cli: a study from upload to a streamed simulation", async (t) => {
  const service = await startService();
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-" });
  try {
    const files = await writeRunFiles(dir);
    let simulator = "";

    await t.step("runs upload: JSON and NDJSON files land in --study", async () => {
      const res = await service.cli(["--json", "runs", "upload", ...files, "--study", "s1"]);
      assert.equal(res.code, 0, res.stderr);
      const { runs } = JSON.parse(res.stdout);
      assert.deepEqual(runs.map((r: { name: string }) => r.name), [
        "run-0",
        "run-1",
        "run-2",
        "run-3",
        "run-4",
        "run-5",
        "run-6",
      ]);
      assert.ok(
        runs.every((r: { study: string; steps: number }) => r.study === "s1" && r.steps === 20),
      );
      assert.equal(runs[6].source, "ndjson");
    });

    await t.step("runs list: a table for people, the page for scripts", async () => {
      const table = await service.cli(["runs", "list", "--study", "s1", "--limit", "3"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /run-0/);
      assert.match(table.stdout, /run-2/);
      assert.doesNotMatch(table.stdout, /run-3/);
      assert.match(table.stderr, /1–3 of 7/);
      const json = await service.cli(["--json", "runs", "list", "--study", "s1", "--offset", "5"]);
      const page = JSON.parse(json.stdout);
      assert.equal(page.total, 7);
      assert.deepEqual(page.runs.map((r: { name: string }) => r.name), ["run-5", "run-6"]);
    });

    await t.step("fit: follows the job and prints the fitted simulator", async () => {
      const res = await service.cli([
        "--json",
        "fit",
        "--study",
        "s1",
        "--kind",
        "linear",
        "--train",
        "run-0,run-1,run-2",
        "--train",
        "run-3",
        "--validation",
        "run-4",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const sim = JSON.parse(res.stdout);
      assert.equal(sim.status, "ready");
      assert.equal(sim.kind, "linear");
      assert.equal(sim.trainRuns.length, 4);
      assert.equal(sim.validationRuns.length, 1);
      assert.ok(sim.lambdaFactor > 0);
      simulator = sim.id;
    });

    await t.step("fit without --json: phases on stderr, the fit as a table", async () => {
      const res = await service.cli([
        "fit",
        "--study",
        "s1",
        "--kind",
        "additive",
        "--train",
        "run-0,run-1,run-2,run-3",
        "--lambda",
        "0.01",
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /^fit additive: succeeded$/m);
      assert.doesNotMatch(res.stderr, /[█░]/, "no progress bar without a terminal");
      assert.match(res.stdout, /│ status\s+│ ready/);
      assert.match(res.stdout, /│ kind\s+│ additive/);
    });

    await t.step({
      name: "fit on a terminal: a progress bar, then the fit",
      ignore: scriptPath === undefined,
      fn: async () => {
        const res = await runCliInTerminal([
          "--url",
          service.url,
          "fit",
          "--study",
          "s1",
          "--kind",
          "multiplicative",
          "--train",
          "run-0,run-1,run-2,run-3",
        ]);
        assert.equal(res.code, 0, res.stdout);
        // The bar's last frame: full, then the fit's table.
        assert.match(res.stdout, /fit multiplicative \[█{30}\] 100% done/);
        assert.match(res.stdout, /│ kind\s+│ multiplicative/);
      },
    });

    await t.step("evaluate: a table per held-out run and pooled", async () => {
      const res = await service.cli(["evaluate", simulator, "--runs", "run-5,run-6"]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /run-5/);
      assert.match(res.stdout, /pooled/);
      const json = await service.cli(["--json", "evaluate", simulator, "--runs", "run-5"]);
      const evaluation = JSON.parse(json.stdout);
      assert.equal(evaluation.runs.length, 1);
      // Synthetic runs with noise 1e-4: a fitted linear simulator tracks them closely.
      assert.ok(evaluation.pooled.allStepsMse < 1e-3, JSON.stringify(evaluation.pooled));
    });

    await t.step("simulate: streams to CSV, equal to the service's JSON answer", async () => {
      const csvPath = join(dir, "sim.csv");
      const res = await service.cli([
        "simulate",
        simulator,
        "--from-run",
        "run-0",
        "--drop",
        "e3",
        "--permute",
        "7",
        "-o",
        csvPath,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const lines = (await Deno.readTextFile(csvPath)).trim().split("\n");
      assert.equal(lines[0], ["t", ...tests].join(","));
      assert.equal(lines.length, 1 + 21);
      const run0 =
        JSON.parse((await service.cli(["--json", "runs", "list", "--study", "s1"])).stdout)
          .runs[0].id;
      const direct = await (await fetch(`${service.url}/v1/simulators/${simulator}/simulate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ fromRun: run0, drop: ["e3"], permute: 7 }),
      })).json();
      for (const [t, line] of lines.slice(1).entries()) {
        const cells = line.split(",").map(Number);
        assert.equal(cells[0], t);
        tests.forEach((z, j) =>
          assert.equal(cells[j + 1], direct.trajectories[z][t], `t=${t} ${z}`)
        );
      }
      const json = await service.cli(["--json", "simulate", simulator, "--from-run", "run-0"]);
      const result = JSON.parse(json.stdout);
      assert.equal(result.steps, 20);
      assert.equal(result.trajectories.q0.length, 21);
    });

    await t.step("runs trajectories: the observed losses as CSV", async () => {
      const res = await service.cli(["runs", "trajectories", "run-2", "--study", "s1"]);
      assert.equal(res.code, 0, res.stderr);
      const lines = res.stdout.trim().split("\n");
      assert.equal(lines[0], ["t", ...tests].join(","));
      const expected = lossRows(studyRuns()[2]);
      assert.equal(lines.length, expected.length + 1);
      for (const [t, line] of lines.slice(1).entries()) {
        const cells = line.split(",").map(Number);
        assert.equal(cells[0], t);
        // Stored as float32: the same float32 comes back.
        expected[t].forEach((loss, z) =>
          assert.equal(Math.fround(cells[z + 1]), Math.fround(loss))
        );
      }
    });

    await t.step("runs export as GPTfluence, then upload the pair under a new name", async () => {
      const zipPath = join(dir, "run-1.zip");
      const res = await service.cli([
        "runs",
        "export",
        "run-1",
        "--study",
        "s1",
        "--format",
        "gptfluence",
        "-o",
        zipPath,
      ]);
      assert.equal(res.code, 0, res.stderr);
      const pairDir = join(dir, "imported-run");
      await Deno.mkdir(pairDir);
      for (const [name, data] of Object.entries(unzipSync(await Deno.readFile(zipPath)))) {
        await Deno.writeFile(join(pairDir, name), data);
      }
      const up = await service.cli(["--json", "runs", "upload", pairDir, "--study", "s1"]);
      assert.equal(up.code, 0, up.stderr);
      const [run] = JSON.parse(up.stdout).runs;
      assert.equal(run.name, "imported-run");
      assert.equal(run.source, "gptfluence");
      assert.equal(run.steps, 20);

      // The zip itself uploads too (the service unpacks it), under the name given.
      const zipped = await service.cli([
        "--json",
        "runs",
        "upload",
        zipPath,
        "--study",
        "s1",
        "--name",
        "from-zip",
      ]);
      assert.equal(zipped.code, 0, zipped.stderr);
      const [fromZip] = JSON.parse(zipped.stdout).runs;
      assert.equal(fromZip.name, "from-zip");
      assert.equal(fromZip.steps, 20);
      const del = await service.cli(["runs", "delete", "from-zip", "--study", "s1"]);
      assert.equal(del.code, 0, del.stderr);
      assert.match(del.stdout, new RegExp(`deleted run ${fromZip.id}`));
    });

    await t.step("the server's message, with exit codes that mean something", async () => {
      // Evaluating on a fitting run is the service's 409: exit 1, its message as sent.
      const conflict = await service.cli(["evaluate", simulator, "--runs", "run-0"]);
      assert.equal(conflict.code, 1);
      const direct = await (await fetch(`${service.url}/v1/simulators/${simulator}/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          runs: [JSON.parse((await service.cli(["--json", "runs", "list"])).stdout).runs[0].id],
        }),
      })).json();
      assert.ok(conflict.stderr.includes(`error: ${direct.error.message}`), conflict.stderr);
      assert.match(conflict.stderr, /HTTP 409/);

      const missing = await service.cli(["simulators", "show", "no-such-simulator"]);
      assert.equal(missing.code, 3, missing.stderr);
      assert.match(missing.stderr, /not found/);
      // A run's name without its study: the service's 404, and a hint under it.
      const byName = await service.cli(["runs", "show", "run-1"]);
      assert.equal(byName.code, 3, byName.stderr);
      assert.match(byName.stderr, /^error: .*run-1/m);
      assert.match(byName.stderr, /hint: .*--study/);

      const bad = await service.cli([
        "--json",
        "simulate",
        simulator,
        "--curriculum",
        join(dir, "none.json"),
      ]);
      assert.equal(bad.code, 2, bad.stderr);

      // An invalid run is the service's 400: exit 1, and with --json its error body on stderr.
      const badRun = {
        study: "s1",
        name: "bad",
        testExamples: tests,
        steps: [{ batch: ["e1"] }],
        losses: [[1, 2, 3, 4], [1, 2, 3]],
      };
      const badPath = join(dir, "bad.json");
      await Deno.writeTextFile(badPath, JSON.stringify(badRun));
      const invalid = await service.cli(["--json", "runs", "upload", badPath]);
      assert.equal(invalid.code, 1, invalid.stderr);
      const sent = await (await fetch(`${service.url}/v1/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(badRun),
      })).json();
      const shown = JSON.parse(invalid.stderr.trim().split("\n").at(-1)!);
      assert.equal(shown.error.message, sent.error.message);
      assert.equal(shown.error.code, sent.error.code);
    });

    await t.step("usage errors exit 2 before any request", async () => {
      const noKind = await service.cli(["fit", "--study", "s1", "--train", "run-0"]);
      assert.equal(noKind.code, 2);
      assert.match(noKind.stderr, /--kind/);
      const unknown = await service.cli(["frobnicate"]);
      assert.equal(unknown.code, 2);
      const badKind = await service.cli(["fit", "--study", "s1", "--kind", "cubic"]);
      assert.equal(badKind.code, 2);
      assert.match(badKind.stderr, /cubic/);
    });

    await t.step("jobs list and follow; runs delete removes a run", async () => {
      const jobs = JSON.parse((await service.cli(["--json", "jobs", "list"])).stdout);
      assert.ok(jobs.jobs.filter((j: { status: string }) => j.status === "succeeded").length >= 2);
      // Following a finished job gives its final state at once.
      const followed = await service.cli(["--json", "jobs", "follow", jobs.jobs[0].id]);
      assert.equal(followed.code, 0, followed.stderr);
      assert.equal(JSON.parse(followed.stdout).status, "succeeded");
      const del = await service.cli(["runs", "delete", "imported-run", "--study", "s1"]);
      assert.equal(del.code, 0, del.stderr);
      // A run simulators were fitted on: the service's 409 unless --force.
      const inUse = await service.cli(["runs", "delete", "run-0", "--study", "s1"]);
      assert.equal(inUse.code, 1, inUse.stderr);
      assert.match(inUse.stderr, /HTTP 409/);
      const forced = await service.cli(["runs", "delete", "run-0", "--study", "s1", "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      const page = JSON.parse(
        (await service.cli(["--json", "runs", "list", "--study", "s1"])).stdout,
      );
      assert.equal(page.total, 6);
      assert.ok(!page.runs.some((r: { name: string }) => r.name === "run-0"));
    });

    await t.step("studies list, show, delete", async () => {
      const studies = JSON.parse((await service.cli(["--json", "studies", "list"])).stdout);
      const s1 = studies.studies.find((s: { name?: string; id?: string }) =>
        s.name === "s1" || s.id === "s1"
      );
      assert.ok(s1, JSON.stringify(studies));
      assert.equal(s1.runs, 6);
      const shown = await service.cli(["studies", "show", "s1"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /test examples: q0, q1, q2, q3/);
      const gone = await service.cli(["studies", "delete", "s1"]);
      assert.equal(gone.code, 0, gone.stderr);
      // Simulators: the linear and additive fits, and the multiplicative one where a terminal ran.
      const simulators = scriptPath === undefined ? 2 : 3;
      assert.match(
        gone.stdout,
        new RegExp(`deleted study s1 \\(6 runs, ${simulators} simulators\\)`),
      );
      const after = JSON.parse(
        (await service.cli(["--json", "runs", "list", "--study", "s1"])).stdout,
      );
      assert.equal(after.total, 0);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await service.stop();
  }
});

Deno.test("cli: the token comes from SIMFLUENCE_API_TOKEN; a wrong one exits 4", async () => {
  const service = await startService({ env: { SIMFLUENCE_API_TOKEN: "s3cret-token" } });
  try {
    const denied = await service.cli(["runs", "list"], { SIMFLUENCE_API_TOKEN: "wrong" });
    assert.equal(denied.code, 4, denied.stderr);
    assert.match(denied.stderr, /invalid API token/);
    const allowed = await service.cli(["--json", "runs", "list"], {
      SIMFLUENCE_API_TOKEN: "s3cret-token",
    });
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(JSON.parse(allowed.stdout).total, 0);
  } finally {
    await service.stop();
  }
});

Deno.test("cli: datasets upload, list, show, delete", async () => {
  const service = await startService();
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-data-" });
  try {
    const path = join(dir, "tiny-set.jsonl");
    await Deno.writeTextFile(
      path,
      '{"id": "a", "text": "one two"}\n{"id": "b", "prompt": "2+2=", "completion": " 4"}\n',
    );
    const up = await service.cli(["--json", "datasets", "upload", path]);
    assert.equal(up.code, 0, up.stderr);
    const dataset = JSON.parse(up.stdout);
    assert.equal(dataset.name, "tiny-set");
    assert.equal(dataset.examples, 2);
    const listed = await service.cli(["datasets", "list"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /tiny-set/);
    const shown = await service.cli(["datasets", "show", dataset.id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /│ b\s+│ 2\+2= ⟶ 4/);
    const bad = join(dir, "bad.jsonl");
    await Deno.writeTextFile(bad, '{"id": "a", "text": "x"}\nnot json\n');
    const refused = await service.cli(["datasets", "upload", bad]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /line 2/);
    const gone = await service.cli(["datasets", "delete", dataset.id]);
    assert.equal(gone.code, 0, gone.stderr);
    assert.equal((await service.cli(["datasets", "show", dataset.id])).code, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await service.stop();
  }
});

Deno.test("cli: device shows the adapter and its kernel choice", async () => {
  const service = await startService();
  try {
    const res = await service.cli(["device"]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /│ adapter\s+│ a fake adapter for tests/);
    assert.match(res.stdout, /│ kernels\.matmul\.tileM\s+│ 64/);
    // The CPU's linear algebra is reported; the fake adapter has no runtime, so no backend row.
    assert.match(res.stdout, /│ linear algebra\s+│ (openblas|typescript)/);
    assert.doesNotMatch(res.stdout, /kernels on/);
    // Tuning needs a real adapter: the fake one gets the service's 503, exit 1.
    const tune = await service.cli(["device", "tune", "--quick"]);
    assert.equal(tune.code, 1, tune.stderr);
    assert.match(tune.stderr, /HTTP 503/);
  } finally {
    await service.stop();
  }
});

Deno.test("cli: no service at the address exits 5", async () => {
  // A port that was just free: nothing listens there.
  const listener = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const res = await runCli(["--url", `http://127.0.0.1:${port}`, "runs", "list"]);
  assert.equal(res.code, 5, res.stderr);
  assert.match(res.stderr, /cannot reach the service/);
});
