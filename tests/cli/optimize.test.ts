// `simfluence optimize` against a real service (no GPU): a synthetic study whose true additive
// effects make e0–e4 harmful to q0; a simulator fitted on its runs; the optimisation followed to
// its table (predicted objectives and gain, the harmful ids dropped); list, show, both downloads
// and delete; the service's 400 naming the field, the 503 for verification without a GPU, and the
// CLI's own usage errors.
import assert from "node:assert/strict";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { gaussian, seededUniform } from "../../src/random.ts";
import { startService } from "./harness.ts";

const TESTS = ["q0", "q1"];
const TRAIN = Array.from({ length: 20 }, (_, i) => `e${i}`);
const HARMFUL = TRAIN.slice(0, 5);
/** True effect of each id on each test's loss per step (q0: e0–e4 raise it). */
const EFFECT = TRAIN.map((_, i) => [i < 5 ? 0.04 : -0.01 - 0.001 * i, i % 2 === 0 ? -0.02 : 0.01]);

function run(name: string, batches: string[][], seed: number) {
  const noise = gaussian(seededUniform(seed));
  const losses = [[3, 3]];
  for (const batch of batches) {
    const last = losses.at(-1)!;
    losses.push(
      last.map((l, z) =>
        l + batch.reduce((s, id) => s + EFFECT[TRAIN.indexOf(id)][z], 0) + 0.002 * noise()
      ),
    );
  }
  return {
    study: "syn",
    name,
    testExamples: TESTS,
    steps: batches.map((batch) => ({ batch })),
    losses,
  };
}

function randomBatches(seed: number, steps: number): string[][] {
  const uniform = seededUniform(seed);
  return Array.from({ length: steps }, () => {
    const batch = new Set<string>();
    while (batch.size < 4) batch.add(TRAIN[Math.floor(uniform() * TRAIN.length)]);
    return [...batch];
  });
}

const BASE = Array.from({ length: 10 }, (_, t) => TRAIN.slice((t % 5) * 4, (t % 5) * 4 + 4));

Deno.test("cli: optimize (simulator), its table, list, show, download, delete", async (t) => {
  const service = await startService();
  const dir = await Deno.makeTempDir({ prefix: "simfluence-cli-optimize-" });
  try {
    const runs = [run("base", BASE, 1)];
    for (let r = 0; r < 14; r++) runs.push(run(`fit-${r}`, randomBatches(10 + r, 12), 20 + r));
    const files: string[] = [];
    for (const r of runs) {
      files.push(join(dir, `${r.name}.json`));
      await Deno.writeTextFile(files.at(-1)!, JSON.stringify(r));
    }
    const up = await service.cli(["--json", "runs", "upload", ...files]);
    assert.equal(up.code, 0, up.stderr);
    const fitRuns = runs.slice(1).map((r) => r.name);
    const fit = await service.cli([
      "--json",
      "fit",
      "--study",
      "syn",
      "--kind",
      "additive",
      "--train",
      fitRuns.slice(0, 11).join(","),
      "--validation",
      fitRuns.slice(11).join(","),
    ]);
    assert.equal(fit.code, 0, fit.stderr);
    const simulator = JSON.parse(fit.stdout).id as string;
    const start = [
      "optimize",
      "--study",
      "syn",
      "--tests",
      "q0",
      "--subset-size",
      "10",
      "--base-run",
      "base",
      "--simulator",
      simulator,
      "--seed",
      "1",
      "--restarts",
      "3",
      "--rounds",
      "60",
      "--candidates",
      "32",
    ];
    let id = "";

    await t.step("optimize follows the job and prints the table", async () => {
      const res = await service.cli([...start, "--show-dropped", "5"]);
      assert.equal(res.code, 0, res.stderr);
      id = /│ optimization\s+│ ([0-9a-f-]{36})/.exec(res.stdout)?.[1] ?? "";
      assert.ok(id, res.stdout);
      assert.match(res.stdout, /│ kept\s+│ 10 of 20 training examples/);
      const row = (name: string) =>
        new RegExp(`│ ${name}\\s+│ (-?[\\d.e-]+)\\s+│ (\\S+)`).exec(res.stdout);
      const optimised = Number(row("optimised")![1]);
      const random = Number(row("random \\(mean\\)")![1]);
      const gain = Number(row("gain over random")![1]);
      assert.ok(optimised < random, res.stdout);
      assert.ok(Math.abs(gain - (random - optimised)) < 1e-3 * Math.max(1, Math.abs(gain)));
      assert.equal(row("optimised")![2], "-", "nothing observed without --verify-runs");
      // The five most harmful dropped ids are the harmful ones.
      const listed = [...res.stdout.matchAll(/│ (e\d+)\s+│ (-?[\d.e-]+)/g)];
      assert.deepEqual(listed.map((m) => m[1]).sort(), [...HARMFUL].sort(), res.stdout);
      assert.ok(listed.every((m) => Number(m[2]) > 0), "keeping a harmful id raises the loss");
      // Without a terminal there is no bar: a line on stderr says how the job ended (the phases
      // too, when the stream starts before the search is over: it often is not, here).
      assert.match(res.stderr, /optimize simulator: succeeded/);
    });

    await t.step("--json prints the kept optimisation", async () => {
      const res = await service.cli([
        "--json",
        ...start,
        "--order",
        "optimize",
        "--step-effect",
        "mean",
      ]);
      assert.equal(res.code, 0, res.stderr);
      const o = JSON.parse(res.stdout);
      assert.equal(o.status, "ready");
      assert.equal(o.result.curriculum.kept.length, 10);
      for (const h of HARMFUL) assert.ok(!o.result.curriculum.kept.includes(h), h);
      assert.equal(o.request.order, "optimize");
      assert.equal(o.request.search.stepEffect, "mean");
      assert.equal(o.result.provenance.simulator, simulator);
    });

    await t.step("list, show, downloads, delete", async () => {
      const listed = await service.cli(["--json", "optimize", "list", "--study", "syn"]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(JSON.parse(listed.stdout).total, 2);
      const table = await service.cli(["optimize", "list"]);
      assert.match(table.stdout, new RegExp(`│ ${id} │ syn\\s+│ simulator │ ready\\s+│ 10/20`));
      const shown = await service.cli(["optimize", "show", id]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.match(shown.stdout, /│ gain over random\s+│ \d/);
      const json = join(dir, "curriculum.json");
      const down = await service.cli(["optimize", "download", id, "-o", json]);
      assert.equal(down.code, 0, down.stderr);
      const curriculum = JSON.parse(await Deno.readTextFile(json));
      assert.equal(curriculum.optimization, id);
      assert.equal(curriculum.kept.length, 10);
      assert.equal(curriculum.steps.length, BASE.length);
      for (const h of HARMFUL) assert.ok(!curriculum.kept.includes(h), h);
      const zip = join(dir, "curriculum.zip");
      const gpt = await service.cli([
        "optimize",
        "download",
        id,
        "--format",
        "gptfluence",
        "-o",
        zip,
      ]);
      assert.equal(gpt.code, 0, gpt.stderr);
      const entries = unzipSync(await Deno.readFile(zip));
      assert.deepEqual(Object.keys(entries).sort(), [
        "all_loss_trajectory.out",
        "train_samples_id.json",
      ]);
      const gone = await service.cli(["optimize", "delete", id]);
      assert.equal(gone.code, 0, gone.stderr);
      assert.equal((await service.cli(["optimize", "show", id])).code, 3);
    });

    await t.step(
      "the service's refusals: a 400 naming the field, a 503 without a GPU",
      async () => {
        const unknown = await service.cli([...start.slice(0, 4), "nope", ...start.slice(5)]);
        assert.equal(unknown.code, 1, unknown.stderr);
        assert.match(unknown.stderr, /HTTP 400/);
        assert.match(unknown.stderr, /objective\.tests/);
        const verify = await service.cli([...start, "--verify-runs", "2"]);
        assert.equal(verify.code, 1, verify.stderr);
        assert.match(verify.stderr, /HTTP 503/);
      },
    );

    await t.step("usage errors: exit 2 before anything is sent", async () => {
      const cases: [string[], RegExp][] = [
        [
          ["optimize", "--study", "syn", "--tests", "q0", "--simulator", simulator],
          /--subset-size/,
        ],
        [
          ["optimize", "--study", "syn", "--tests", "q0", "--drop-fraction", "0.5"],
          /one of --simulator/,
        ],
        [
          [...start.slice(0, 7), "--metagradient-run", "base"],
          /--metagradient-run and --iterations/,
        ],
        [[...start.slice(0, 7), "--scores", "x", "--rounds", "5"], /go with --simulator/],
      ];
      for (const [args, message] of cases) {
        const res = await service.cli(args);
        assert.equal(res.code, 2, `${args.join(" ")}: ${res.stderr}`);
        assert.match(res.stderr, message);
      }
      const listed = JSON.parse((await service.cli(["--json", "optimize", "list"])).stdout);
      assert.equal(listed.total, 1, "refused requests keep nothing");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await service.stop();
  }
});
