// The service's log is JSON lines and nothing else, so that it can be parsed whole. Deno prints a
// plain-text warning ("Deno.serve: request.signal aborts on successful responses…") the first time
// a served request's signal is read, which copying a request with a body (the body limit and
// timeout wrap it) used to do; after requests with bodies (JSON, an NDJSON upload, a malformed
// one), every line the started service printed must still parse as JSON.
import assert from "node:assert/strict";
import { ServiceProcess } from "../helpers/service_process.ts";

const TINY = { vocab_size: 257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2 };

Deno.test("every line a started service prints is JSON", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-log-" });
  const service = await ServiceProcess.start({ dataDir, env: { SIMFLUENCE_LOG_LEVEL: "info" } });
  try {
    const model = await service.api("POST", "/v1/models", { config: TINY, seed: 1 });
    assert.equal(model.status, 201, model.text);
    const dataset = await service.api(
      "POST",
      "/v1/datasets?name=tiny",
      '{"id": "a", "text": "one two"}\n{"id": "b", "text": "three"}\n',
      { "content-type": "application/x-ndjson" },
    );
    assert.ok(dataset.status < 300, dataset.text);
    const bad = await service.api("POST", "/v1/models", "{not json", {
      "content-type": "application/json",
    });
    assert.equal(bad.status, 400, bad.text);
    assert.equal(await service.stop("SIGTERM", "task"), 0, service.log);
    const lines = service.log.split("\n").filter((line) => line.trim() !== "");
    assert.ok(lines.some((l) => l.includes('"msg":"request"')), service.log);
    const notJson = lines.filter((line) => {
      try {
        return typeof JSON.parse(line) !== "object";
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson, []);
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
