// `deno task start` with SIMFLUENCE_DATA_DIR outside the checkout: the launcher derives the
// service's permissions from the configuration, so the store opens there and writes work.
import assert from "node:assert/strict";
import { join } from "node:path";
import { filesUnder, ServiceProcess } from "../helpers/service_process.ts";

Deno.test("the start task serves a data directory outside the checkout", async () => {
  const outside = await Deno.makeTempDir({ prefix: "simfluence-outside-" });
  const dataDir = join(outside, "var", "lib", "simfluence"); // not there yet: created at start
  assert.ok(!dataDir.startsWith(new URL("../..", import.meta.url).pathname));
  const service = await ServiceProcess.start({ dataDir });
  try {
    const created = await service.api("POST", "/v1/runs", {
      study: "s",
      name: "r",
      testExamples: ["q"],
      steps: [{ batch: ["a"] }],
      losses: [[1], [0.5]],
    });
    assert.equal(created.status, 201, created.text);
    const files = filesUnder(dataDir);
    assert.ok(files.includes("simfluence.db"), files.join(", "));
    assert.equal(files.filter((f) => f.startsWith("tensors/")).length, 1, files.join(", "));
    const read = await service.api("GET", `/v1/runs/${created.body.id}/trajectories`);
    assert.deepEqual(read.body.trajectories, { q: [1, 0.5] });
  } finally {
    await service.kill();
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("a bad configuration stops the start task with a message naming the variable", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "start"],
    cwd: new URL("../..", import.meta.url).pathname,
    env: { PORT: "not-a-port", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 1);
  assert.match(new TextDecoder().decode(out.stderr), /PORT: /);
});
