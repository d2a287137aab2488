// SIGKILL while a chunked NDJSON run upload is streaming in: after restart the run does not exist
// and no file of it is left in the data directory.
import assert from "node:assert/strict";
import { filesUnder, ServiceProcess, tensorFilesOnDisk } from "../helpers/service_process.ts";

const encoder = new TextEncoder();

Deno.test("killed mid-upload: no run and no file of it after restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-upload-" });
  let service = await ServiceProcess.start({ dataDir });
  try {
    const before = filesUnder(dataDir).filter((f) => !f.startsWith("simfluence.db"));
    // A body that sends the header and 200 steps, then stalls: the upload is mid-stream.
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) {
          controller.enqueue(encoder.encode(
            JSON.stringify({
              study: "s",
              name: "streamed",
              testExamples: ["q1", "q2"],
              initialLosses: [2, 3],
            }) + "\n",
          ));
        } else if (sent <= 200) {
          controller.enqueue(encoder.encode(
            JSON.stringify({ batch: [`e${sent}`], losses: [2 - sent / 1000, 3] }) + "\n",
          ));
        } else {
          await new Promise(() => {}); // never ends: the service dies first
        }
        sent++;
      },
    });
    const upload = fetch(`${service.url}/v1/runs`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson" },
      body,
    }).then((r) => r.status, () => "connection lost");
    while (sent <= 200) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200)); // the service reads what was sent
    await service.kill();
    assert.equal(await upload, "connection lost");

    service = await ServiceProcess.start({ dataDir });
    const runs = await service.api("GET", "/v1/runs?study=s");
    assert.equal(runs.status, 200);
    assert.equal(runs.body.total, 0);
    assert.deepEqual(tensorFilesOnDisk(dataDir), []);
    const after = filesUnder(dataDir).filter((f) => !f.startsWith("simfluence.db"));
    assert.deepEqual(after, before);
    // The store still takes the same upload whole.
    const lines = [{ study: "s", name: "streamed", testExamples: ["q1"], initialLosses: [1] }, {
      batch: ["e1"],
      losses: [0.5],
    }].map((l) => JSON.stringify(l)).join("\n");
    const again = await service.api("POST", "/v1/runs", lines, {
      "content-type": "application/x-ndjson",
    });
    assert.equal(again.status, 201, again.text);
  } finally {
    await service.kill();
    await Deno.remove(dataDir, { recursive: true });
  }
});
