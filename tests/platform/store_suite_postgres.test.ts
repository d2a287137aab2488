// The store test suite on PostgreSQL: the HTTP and store tests below run once more, in a child
// `deno test`, with SIMFLUENCE_TEST_DATABASE=postgres, so every store module's queries run on both
// dialects through the same tests (tests/helpers/app.ts opens the store). Tests of SQLite-only
// behaviour (reopening a data directory, a crashed process's jobs marked failed) stay out.
import assert from "node:assert/strict";
import { postgresAvailable } from "../helpers/postgres.ts";

const SUITE = [
  "tests/runs/http.test.ts",
  "tests/studies/http.test.ts",
  "tests/datasets/upload.test.ts",
  "tests/models/http.test.ts",
  "tests/simfluence/http.test.ts",
  "tests/simfluence/simulator_store.test.ts",
  "tests/evaluations/http.test.ts",
  "tests/influence/http.test.ts",
];

const root = new URL("../../", import.meta.url).pathname;

for (const file of SUITE) {
  Deno.test({
    name: `store suite on PostgreSQL: ${file}`,
    ignore: !postgresAvailable,
    async fn() {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--no-check", file],
        cwd: root,
        env: { SIMFLUENCE_TEST_DATABASE: "postgres", NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      const summary = text.match(/^(ok|FAILED) \| (\d+) passed.*$/m);
      assert.ok(out.success && summary, `${file} on PostgreSQL:\n${text.slice(-4000)}`);
      assert.ok(Number(summary[2]) > 0, `${file} ran no test`);
    },
  });
}
