// The cluster suite at tiny sizes: every row it promises (pickup, event latency, simulation
// latency, uploads) comes out with a finite figure next to a finite one-process baseline. The worker-death row waits on a
// queue heartbeat (≥ 10 s) and is left to `deno task bench --suite cluster`.
import assert from "node:assert/strict";
import { clusterSuite, runClusterBench } from "../../bench/cluster.ts";
import { postgresAvailable } from "../helpers/postgres.ts";

Deno.test({
  name: "bench cluster: every row at tiny sizes, beside its one-process baseline",
  ignore: !postgresAvailable && Deno.env.get("CI") !== "true",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.equal(clusterSuite.onlyWhenNamed, true, "starts processes: only when named");
    const figures = await runClusterBench({
      pickups: 2,
      uploads: 8,
      sweepStudy: { n: 60, m: 8, runs: 4, steps: 30 },
      death: false,
    });
    assert.deepEqual(figures.map((f) => f.name), [
      "cluster job pickup p50",
      "cluster job pickup p99",
      "cluster event latency p50 (worker → watcher on another node)",
      "cluster event latency p99 (worker → watcher on another node)",
      "cluster simulation start → first step on another node p50",
      "run uploads, PostgreSQL (4 clients)",
    ]);
    for (const f of figures) {
      assert.ok(Number.isFinite(f.value) && f.value >= 0, `${f.name}: ${f.value}`);
      assert.ok(Number.isFinite(f.baseline!) && f.baseline! >= 0, `${f.name}: ${f.baseline}`);
    }
    assert.ok(figures[5].value > 0 && figures[5].baseline! > 0, "uploads went through");
  },
});
