// The single-model LDS at a reduced size (bench/compare_magic.ts, the quick variant of
// `deno task compare --suite magic`): one base run on builtin:skills, mask runs at dropFraction
// 0.02 and 0.1, and MAGIC ranked against EK-FAC, TracIn and Simfluence-Linear on the same runs
// through POST /v1/evaluations/lds with baseRun. The bounds were measured on llvmpipe (see
// LDS_FLOOR) and keep a margin; MAGIC must also rank above every other method at both fractions.
import assert from "node:assert/strict";
import { FRACTIONS, MAGIC_TEST, runMagicComparison } from "../../bench/compare_magic.ts";
import { gpuTest, testRuntime } from "../helpers/gpu.ts";

/**
 * MAGIC's LDS at this size measured 0.857 (drop 0.02) and 0.786 (drop 0.1) on llvmpipe, against
 * at most 0.484 and 0.262 for the others (TracIn), in about 2 minutes on 2 shared cores. The floor
 * leaves a margin for another adapter's rounding; 8 runs per fraction make ρ coarse.
 */
const LDS_FLOOR = 0.65;

Deno.test(
  "metagradients: MAGIC's LDS over mask runs beats the other methods",
  gpuTest,
  async () => {
    const runtime = await testRuntime();
    const { rows, markdown } = await runMagicComparison(MAGIC_TEST, runtime);
    console.log(markdown);
    const magic = rows.find((r) => r.method.startsWith("MAGIC"))!;
    FRACTIONS.forEach((fraction, k) => {
      const lds = magic.lds[k]?.lds ?? NaN;
      assert.ok(lds >= LDS_FLOOR, `MAGIC's LDS at ${fraction} is ${lds}`);
      for (const other of rows.filter((r) => r !== magic)) {
        const theirs = other.lds[k]?.lds ?? -Infinity;
        assert.ok(
          lds > theirs,
          `${other.method} (${theirs}) ranks above MAGIC (${lds}) at ${fraction}`,
        );
      }
    });
  },
);
