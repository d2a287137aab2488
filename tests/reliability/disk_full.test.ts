// A write that the disk refuses answers 507 as a JSON error, leaves the store as it was, and
// writes work again once space is back. The data directory is a small tmpfs, filled up mid-test:
// that needs mount(8) and root, which CI has; elsewhere the test is skipped rather than faked.
// (A read-only remount is refused while the database is open for writing, and chmod does not
// stop root, so "read-only" is covered by the error mapping's unit test only.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { ServiceProcess, tensorFilesOnDisk } from "../helpers/service_process.ts";

async function run(cmd: string, ...args: string[]): Promise<boolean> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()
    .catch(() => null);
  return out?.success ?? false;
}

/** Whether this machine lets the test mount a tmpfs (root in a permissive sandbox). */
async function canMountTmpfs(): Promise<boolean> {
  if (Deno.build.os !== "linux" || Deno.uid() !== 0) return false;
  const probe = await Deno.makeTempDir({ prefix: "simfluence-probe-" });
  const mounted = await run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe);
  if (mounted) await run("umount", probe);
  await Deno.remove(probe);
  return mounted;
}

const tmpfs = await canMountTmpfs();

function run1(name: string) {
  return {
    study: "s",
    name,
    testExamples: Array.from({ length: 64 }, (_, j) => `q${j}`),
    steps: Array.from({ length: 200 }, (_, t) => ({ batch: [`e${t}`] })),
    losses: Array.from({ length: 201 }, (_, t) => Array.from({ length: 64 }, (_, j) => t + j)),
  };
}

/** Fills the file system until it refuses: afterwards not one more block can be written. */
async function fill(path: string): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true });
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (;;) await file.write(chunk);
  } catch (e) {
    assert.equal((e as { code?: string }).code, "ENOSPC");
  }
  // Smaller pieces too, so that no partial block is left for the service.
  try {
    for (;;) await file.write(chunk.subarray(0, 512));
  } catch {
    // full
  } finally {
    file.close();
  }
}

Deno.test({
  name: "a full data directory answers 507 and changes nothing; space back, it works",
  ignore: !tmpfs,
  async fn(t) {
    const mountPoint = await Deno.makeTempDir({ prefix: "simfluence-tmpfs-" });
    assert.ok(await run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mountPoint));
    const dataDir = join(mountPoint, "data");
    let service = await ServiceProcess.start({ dataDir });
    try {
      const first = await service.api("POST", "/v1/runs", run1("before"));
      assert.equal(first.status, 201, first.text);
      const tensorsBefore = tensorFilesOnDisk(dataDir);

      await t.step("disk full", async () => {
        const filler = join(mountPoint, "filler");
        await fill(filler);
        const refused = await service.api("POST", "/v1/runs", run1("while-full"));
        assert.equal(refused.status, 507, refused.text);
        assert.equal(refused.body.error.code, "insufficient_storage");
        assert.equal(typeof refused.body.error.message, "string");
        assert.deepEqual(tensorFilesOnDisk(dataDir), tensorsBefore);
        const list = await service.api("GET", "/v1/runs?study=s");
        assert.deepEqual(list.body.runs.map((r: { name: string }) => r.name), ["before"]);
        await Deno.remove(filler);
        const after = await service.api("POST", "/v1/runs", run1("while-full"));
        assert.equal(after.status, 201, after.text);
      });

      await t.step("the store is whole after a restart", async () => {
        await service.kill();
        service = await ServiceProcess.start({ dataDir });
        const list = await service.api("GET", "/v1/runs?study=s");
        const names = list.body.runs.map((r: { name: string }) => r.name).sort();
        assert.deepEqual(names, ["before", "while-full"]);
        for (const r of list.body.runs) {
          const read = await service.api("GET", `/v1/runs/${r.id}/trajectories?tests=q1`);
          assert.equal(read.status, 200, read.text);
          assert.equal(read.body.trajectories.q1[200], 201);
        }
      });
    } finally {
      await service.kill();
      await run("umount", mountPoint);
      await Deno.remove(mountPoint, { recursive: true });
    }
  },
});
