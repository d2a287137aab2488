// The store test suite on PostgreSQL: the HTTP and store tests below run once more, in a child
// `deno test`, with SIMFLUENCE_TEST_DATABASE=postgres, so every store module's queries run on both
// dialects through the same tests (tests/helpers/app.ts opens the store). Tests of SQLite-only
// behaviour (reopening a data directory, a crashed process's jobs marked failed) stay out.
import { defineChildSuite } from "../helpers/child_suite.ts";
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

defineChildSuite({
  label: "store suite on PostgreSQL",
  files: SUITE,
  env: { SIMFLUENCE_TEST_DATABASE: "postgres" },
  ignore: !postgresAvailable,
});
