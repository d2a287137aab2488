// `simfluence optimize`'s table for a verified optimisation, without a service or a GPU: the
// observed objectives beside the predicted ones, the observed gain with both intervals, the
// verification runs with those a cancelled verification kept marked, and the search's progress
// line (best objective so far, or a metagradient iteration's objective).
import assert from "node:assert/strict";
import { type Optimization, printOptimization } from "../../cli/commands/optimize.ts";
import { progressText } from "../../cli/follow.ts";

function printed(work: () => void): string {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    work();
  } finally {
    console.log = log;
  }
  return lines.join("\n");
}

const verified: Optimization = {
  id: "opt-1",
  study: "skills",
  method: "simulator",
  status: "cancelled",
  error: "cancelled",
  job: "job-1",
  budget: { keep: 16, of: 32 },
  objective: { tests: ["sort-200", "sort-201"], at: "final" },
  predicted: { optimized: 1.5, own: 2.25, randomMean: 2 },
  verified: { improvement: 0.25, lower: 0.125, upper: 0.375 },
  createdAt: "2026-12-07T00:00:00Z",
  result: {
    curriculum: { kept: [], order: [] },
    predicted: { improvement: 0.5 },
    changes: {
      dropped: [{ id: "e1", contribution: -0.01 }, { id: "e2", contribution: 0.2 }],
    },
    provenance: { simulator: "sim-1", baseRun: "run-0" },
    seconds: 1.5,
  },
  verification: {
    status: "cancelled",
    runs: [
      {
        kind: "optimized",
        index: null,
        run: "r-opt",
        name: "optimize-1-optimized",
        observed: 1.75,
        predicted: 1.5,
        cancelled: true,
      },
      {
        kind: "random",
        index: 0,
        run: "r-0",
        name: "optimize-1-random-0",
        observed: 2,
        predicted: 2.1,
        cancelled: true,
      },
    ],
    observed: {
      optimized: 1.75,
      randomMean: 2,
      improvement: 0.25,
      interval: { lower: 0.125, upper: 0.375, confidence: 0.95 },
      overTests: { lower: 0.0625, upper: 0.4375, confidence: 0.95 },
    },
    predicted: { improvement: 0.5 },
  },
};

Deno.test("optimize table: predicted beside observed, the gain and both intervals", () => {
  const out = printed(() => printOptimization(verified, 1));
  assert.match(out, /│ method\s+│ simulator sim-1/);
  assert.match(out, /│ kept\s+│ 16 of 32 training examples/);
  assert.match(out, /│ optimised\s+│ 1\.5\s+│ 1\.75\s+│/);
  assert.match(out, /│ random \(mean\)\s+│ 2\s+│ 2\s+│/);
  assert.match(out, /│ study's own\s+│ 2\.25\s+│ -\s+│/);
  assert.match(out, /│ gain over random\s+│ 0\.5\s+│ 0\.25 \[0\.125, 0\.375\] \(95 %\)/);
  assert.match(out, /│ {3}resampling tests too\s+│\s+│ \[0\.0625, 0\.4375\] \(95 %\)/);
  assert.match(out, /verification cancelled: 2 run\(s\) recorded \(marked cancelled\)/);
  assert.match(
    out,
    /│ r-opt\s+│ optimize-1-optimized \(cancelled\)\s+│ optimised\s+│ 1\.5\s+│ 1\.75/,
  );
  assert.match(out, /│ r-0\s+│ optimize-1-random-0 \(cancelled\)\s+│ random 1\s+│ 2\.1\s+│ 2\s/);
  // One dropped id asked for: the most harmful (largest rise had it been kept).
  assert.match(out, /the 1 most harmful/);
  assert.match(out, /│ e2\s+│ 0\.2/);
  assert.doesNotMatch(out, /│ e1 /);
});

Deno.test("optimize table: without verification nothing is claimed as observed", () => {
  const out = printed(() => printOptimization({ ...verified, verification: null }, 0));
  assert.match(out, /│ optimised\s+│ 1\.5\s+│ -\s+│/);
  assert.match(out, /│ gain over random\s+│ 0\.5\s+│ -\s+│/);
  assert.doesNotMatch(out, /verification|resampling|dropped/);
});

Deno.test("progressText: the search's best objective, or an iteration's objective", () => {
  const search = { phase: "search", fraction: 0.5, step: 300, total: 600, unit: "rounds" };
  assert.equal(
    progressText({ ...search, details: { restart: 1, round: 10, objective: 2.5, best: 2.25 } }),
    "search · 300/600 rounds · best 2.25",
  );
  assert.equal(
    progressText({
      phase: "iteration 2/3",
      fraction: 0.6,
      step: 2,
      total: 3,
      unit: "iterations",
      details: { iteration: 1, objective: 1.125 },
    }),
    "iteration 2/3 · 2/3 iterations · objective 1.125",
  );
});
