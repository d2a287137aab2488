// The registry of job kinds: what each kind needs, where it may run, and runStored, the entry a
// queue worker calls with a stored record (built by the kind, as every submitted job is).
import assert from "node:assert/strict";
import { JobFinishedError, JobManager } from "../../src/jobs/manager.ts";
import { memoryLogger } from "../../src/log.ts";
import { NotFoundError } from "../../src/errors.ts";
import { testApp } from "../helpers/app.ts";

Deno.test("every kind the service submits is defined, with what it needs", async () => {
  const ctx = await testApp();
  try {
    // Other capabilities define their own kinds too (curricula): these are the ones built here.
    const expected = [
      { kind: "device-tune", needs: "gpu", local: true },
      { kind: "gradients", needs: "gpu", local: false },
      { kind: "influence-factors", needs: "gpu", local: false },
      { kind: "influence-metagradients", needs: "gpu", local: false },
      { kind: "influence-scores", needs: "gpu", local: false },
      { kind: "lds", needs: "cpu", local: false },
      { kind: "simulator-fit", needs: "cpu", local: false },
      { kind: "training-runs", needs: "gpu", local: false },
    ];
    const defined = ctx.jobs.definedKinds();
    for (const kind of expected) {
      assert.deepEqual(defined.find((k) => k.kind === kind.kind), kind);
    }
    assert.deepEqual(ctx.jobs.kindInfo("device-tune"), {
      kind: "device-tune",
      needs: "gpu",
      local: true,
    });
    assert.equal(ctx.jobs.kindInfo("no-such-kind"), null);
    // A defined kind builds its own handler: a closure for it is a programming error.
    assert.throws(
      () => ctx.jobs.submit("lds", {}, () => Promise.resolve()),
      TypeError,
    );
    assert.throws(() => ctx.jobs.submit("no-such-kind", {}), TypeError);
  } finally {
    await ctx.close();
  }
});

Deno.test("runStored builds from the stored record, with what an earlier attempt kept", async () => {
  const ctx = await testApp();
  try {
    // A kind that counts to 3, keeping each count; an attempt may die after any of them.
    const dieAfter = { count: 1 };
    const builds: unknown[] = [];
    const counting = (jobs: JobManager) =>
      jobs.define<{ to: number }>("count", {
        needs: "cpu",
        build: (record) => {
          builds.push(record.result);
          const from = (record.result as { count?: number } | null)?.count ?? 0;
          return Promise.resolve(async (job) => {
            for (let count = from + 1; count <= job.input.to; count++) {
              job.keep({ count });
              if (count === dieAfter.count) throw new Error("node died");
              await Promise.resolve();
            }
            return { count: job.input.to, resumedFrom: from };
          });
        },
      });
    counting(ctx.jobs);
    const job = ctx.jobs.submit("count", { to: 3 });
    // The job is already queued here: runStored refuses a second copy on the same node.
    await assert.rejects(() => ctx.jobs.runStored(ctx.store.jobs.get(job.id)!), /already runs/);
    await waitFinished(ctx.jobs, job.id);
    assert.equal(ctx.jobs.get(job.id)!.status, "failed");
    assert.deepEqual(ctx.jobs.get(job.id)!.result, { count: 1 });

    // Another node takes the same record (as a retry after the first died).
    const other = new JobManager({ store: ctx.store.jobs, logger: memoryLogger() });
    counting(other);
    dieAfter.count = 0;
    ctx.store.jobs.update(job.id, { status: "running", finishedAt: null, error: null });
    const done = await other.runStored(ctx.store.jobs.get(job.id)!);
    assert.equal(done.status, "succeeded", done.error ?? "");
    assert.deepEqual(done.result, { count: 3, resumedFrom: 1 });
    assert.deepEqual(builds, [null, { count: 1 }], "each attempt built from the stored record");
    assert.deepEqual(ctx.store.jobs.get(job.id)!.result, { count: 3, resumedFrom: 1 });

    await assert.rejects(() => other.runStored(done), JobFinishedError);
    const unknown = ctx.jobs.submit("unknown-here", null, () => Promise.resolve());
    await waitFinished(ctx.jobs, unknown.id);
    ctx.store.jobs.update(unknown.id, { status: "queued", finishedAt: null });
    await assert.rejects(() => other.runStored(ctx.store.jobs.get(unknown.id)!), NotFoundError);

    // The queue's signal cancels the run as DELETE /v1/jobs/:id does.
    other.define<null>("waits", {
      needs: "cpu",
      build: () =>
        Promise.resolve((job) =>
          new Promise((_, reject) =>
            job.signal.addEventListener("abort", () => reject(job.signal.reason))
          )
        ),
    });
    const waiting = ctx.store.jobs.create({ id: crypto.randomUUID(), kind: "waits", input: null });
    const lease = new AbortController();
    const settled = other.runStored(waiting, lease.signal);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(other.get(waiting.id)!.status, "running");
    lease.abort();
    assert.equal((await settled).status, "cancelled");
    await other.shutdown(1_000);
  } finally {
    await ctx.close();
  }
});

async function waitFinished(jobs: JobManager, id: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (jobs.get(id)!.finishedAt === null) {
    if (Date.now() > deadline) throw new Error(`job ${id} did not finish`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
