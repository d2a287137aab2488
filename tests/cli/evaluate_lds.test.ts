// `simfluence evaluate lds` against a real service: the LDS of a fitted simulator on held-out
// runs (followed job, kept evaluation), the 409 for fitting runs with the CLI flag as the hint,
// --allow-fitting-runs, and the kept evaluations' list, show and delete.
import assert from "node:assert/strict";
import { join } from "node:path";
import { generateRuns, randomModel } from "../../src/simfluence/math/synthetic.ts";
import { startService } from "./harness.ts";

const M = 4;
const tests = Array.from({ length: M }, (_, z) => `q${z}`);

/** Seven synthetic runs as JSON files run-0 … run-6. */
async function writeRuns(dir: string): Promise<string[]> {
  const model = randomModel(5, {
    n: 10,
    m: M,
    aMean: -0.01,
    aSpread: 0.004,
    bMean: 0,
    bSpread: 0.01,
  });
  const initial = Float32Array.from({ length: M }, (_, z) => 2 + 0.25 * z);
  const runs = generateRuns(9, model, { runs: 7, steps: 12, batch: 3, noise: 1e-4, initial });
  const paths: string[] = [];
  for (const [r, run] of runs.entries()) {
    const losses = Array.from(
      { length: run.batches.length + 1 },
      (_, t) => Array.from(run.losses.subarray(t * M, (t + 1) * M)),
    );
    const path = join(dir, `run-${r}.json`);
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        study: "lds",
        testExamples: tests,
        steps: (run.batches as number[][]).map((b) => ({ batch: b.map((i) => `e${i}`) })),
        losses,
      }),
    );
    paths.push(path);
  }
  return paths;
}

Deno.test("cli: evaluate lds, the fitting-runs 409 and its flag, list, show, delete", async (t) => {
  const service = await startService();
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-lds-" });
  try {
    const up = await service.cli(["--json", "runs", "upload", ...(await writeRuns(dir))]);
    assert.equal(up.code, 0, up.stderr);
    const fit = await service.cli([
      "--json",
      "fit",
      "--study",
      "lds",
      "--kind",
      "linear",
      "--train",
      "run-0,run-1",
      "--lambda",
      "0.01",
    ]);
    assert.equal(fit.code, 0, fit.stderr);
    const simulator = JSON.parse(fit.stdout).id;
    const heldOut = "run-2,run-3,run-4,run-5,run-6";
    let evaluation = "";

    await t.step("evaluate lds on held-out runs: follows the job, prints the LDS", async () => {
      const res = await service.cli([
        "--json",
        "evaluate",
        "lds",
        "--study",
        "lds",
        "--runs",
        heldOut,
        "--simulator",
        simulator,
        "--resamples",
        "200",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const kept = JSON.parse(res.stdout);
      evaluation = kept.id;
      assert.equal(kept.status, "ready");
      assert.deepEqual(kept.method, { simulator });
      assert.equal(kept.runs.total, 5);
      assert.equal(kept.tests.length, M);
      assert.equal(typeof kept.lds, "number");
      assert.ok(kept.interval.lower <= kept.lds && kept.lds <= kept.interval.upper);
      assert.equal(kept.bootstrap.resamples, 200);
      const table = await service.cli(["evaluate", "show", evaluation]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(table.stdout, /│ LDS\s+│ -?\d/);
      assert.match(table.stdout, /│ q3\s+│/);
    });

    await t.step("fitting runs: a 409 whose hint is the CLI flag, then the flag", async () => {
      const runs = `run-0,run-1,${heldOut}`;
      const args = ["evaluate", "lds", "--study", "lds", "--runs", runs, "--simulator", simulator];
      const refused = await service.cli(args);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /HTTP 409/);
      assert.match(refused.stderr, /^ {2}hint: .*--allow-fitting-runs/m);
      const allowed = await service.cli(["--json", ...args, "--allow-fitting-runs"]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(JSON.parse(allowed.stdout).fittingRuns.total, 2);
      // The simulator's own evaluate says the same.
      const direct = await service.cli(["evaluate", simulator, "--runs", "run-0"]);
      assert.equal(direct.code, 1, direct.stderr);
      assert.match(direct.stderr, /^ {2}hint: .*--allow-fitting-runs/m);
    });

    await t.step("evaluate list, then delete", async () => {
      const listed = JSON.parse(
        (await service.cli(["--json", "evaluate", "list", "--study", "lds"])).stdout,
      );
      assert.equal(listed.total, 2);
      const table = await service.cli(["evaluate", "list"]);
      assert.match(table.stdout, new RegExp(evaluation));
      const gone = await service.cli(["evaluate", "delete", evaluation]);
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal((await service.cli(["evaluate", "show", evaluation])).code, 3);
    });

    await t.step("usage: one method, and runs", async () => {
      const none = await service.cli(["evaluate", "lds", "--study", "lds", "--runs", heldOut]);
      assert.equal(none.code, 2, none.stderr);
      assert.match(none.stderr, /one of --simulator and --scores/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await service.stop();
  }
});
