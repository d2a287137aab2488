// The claim at a reduced size (bench/compare_optimize.ts at OPTIMIZE_TEST), end to end
// through the API on this machine's adapter (llvmpipe here): on builtin:skills with a 2-layer
// model, keep half of the study curriculum's examples for the test examples of one skill, and
// verify with R = 8 real runs on random halves. For the simulator and the metagradient methods the
// optimised half's observed final loss beats the random mean, with the seeded bootstrap 95 %
// interval above 0. The figures are printed for the report; nothing here is hard-coded.
import assert from "node:assert/strict";
import { OPTIMIZE_TEST, runOptimizeComparison } from "../../bench/compare_optimize.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

Deno.test("curriculum optimisation on builtin:skills, verified by training", gpuTest, async () => {
  const comparison = await runOptimizeComparison(OPTIMIZE_TEST, await testRuntime());
  console.log(comparison.markdown);
  assert.deepEqual(comparison.rows.map((r) => r.method), ["simulator", "metagradient"]);
  for (const row of comparison.rows) {
    assert.ok(row.observedGain > 0, `${row.method}: ${JSON.stringify(row)}`);
    assert.ok(row.lower > 0, `${row.method}: the interval includes 0: ${JSON.stringify(row)}`);
    assert.ok(row.lower <= row.observedGain && row.observedGain <= row.upper);
    assert.ok(row.predictedGain !== null && row.predictedGain > 0, JSON.stringify(row));
  }
});
