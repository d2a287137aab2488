// What a job keeps (ctx.keep) stays its result when it fails, is cancelled or its process dies;
// POST /v1/jobs/:id/resume goes to the resumer registered for the job's kind.
import assert from "node:assert/strict";
import { JobManager, NotResumableError } from "../../src/jobs/manager.ts";
import { storedRequest } from "../../src/jobs/resume.ts";
import { memoryLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { NotFoundError } from "../../src/errors.ts";
import { z } from "zod";
import { until } from "../helpers/app.ts";

async function setup() {
  const dataDir = await Deno.makeTempDir({ prefix: "simfluence-resume-" });
  let store = SqliteStore.open({ dataDir });
  let jobs = new JobManager({ store: store.jobs, logger: memoryLogger() });
  return {
    get store() {
      return store;
    },
    get jobs() {
      return jobs;
    },
    /** A new process on the same store, without a shutdown: like a restart after SIGKILL. */
    reopen() {
      store.close();
      store = SqliteStore.open({ dataDir });
      jobs = new JobManager({ store: store.jobs, logger: memoryLogger() });
    },
    async close() {
      await jobs.shutdown(1_000);
      store.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

Deno.test("kept results survive failure, cancellation and a dead process; success replaces them", async () => {
  const ctx = await setup();
  try {
    const failing = ctx.jobs.submit("k", {}, (job) => {
      job.keep({ runs: ["a"] });
      return Promise.reject(new Error("boom"));
    });
    await until(() => ctx.jobs.get(failing.id)!.status === "failed");
    assert.deepEqual(ctx.jobs.get(failing.id)!.result, { runs: ["a"] });

    const cancelled = ctx.jobs.submit("k", {}, (job) => {
      job.keep({ runs: ["b"] });
      return new Promise((_, reject) =>
        job.signal.addEventListener("abort", () => reject(job.signal.reason))
      );
    });
    await until(() => ctx.jobs.get(cancelled.id)!.result !== null);
    ctx.jobs.cancel(cancelled.id);
    await until(() => ctx.jobs.get(cancelled.id)!.status === "cancelled");
    assert.deepEqual(ctx.jobs.get(cancelled.id)!.result, { runs: ["b"] });

    const succeeded = ctx.jobs.submit("k", {}, (job) => {
      job.keep({ partial: true });
      return Promise.resolve({ whole: true });
    });
    await until(() => ctx.jobs.get(succeeded.id)!.status === "succeeded");
    assert.deepEqual(ctx.jobs.get(succeeded.id)!.result, { whole: true });

    const dying = ctx.jobs.submit("k", {}, (job) => {
      job.keep({ runs: ["c"] });
      return new Promise(() => {}); // still running when the process "dies"
    });
    await until(() => ctx.store.jobs.get(dying.id)!.result !== null);
    ctx.reopen();
    const after = ctx.jobs.get(dying.id)!;
    assert.equal(after.status, "failed");
    assert.equal(after.error, "interrupted");
    assert.deepEqual(after.result, { runs: ["c"] });
  } finally {
    await ctx.close();
  }
});

Deno.test("resume: only failed or cancelled jobs of a kind with a resumer", async () => {
  const ctx = await setup();
  try {
    const Request = z.object({ n: z.number() }).strict();
    ctx.jobs.registerResumer("again", (previous) => {
      const request = storedRequest(previous, Request);
      const job = ctx.jobs.submit("again", { request }, () => Promise.resolve(request.n));
      return Promise.resolve({ job: job.id, n: request.n });
    });
    const failed = ctx.jobs.submit(
      "again",
      { request: { n: 7 } },
      () => Promise.reject(new Error("x")),
    );
    const ok = ctx.jobs.submit("again", { request: { n: 1 } }, () => Promise.resolve(1));
    const other = ctx.jobs.submit("other", {}, () => Promise.reject(new Error("x")));
    const old = ctx.jobs.submit("again", { n: 3 }, () => Promise.reject(new Error("x")));
    await until(() => [failed, ok, other, old].every((j) => ctx.jobs.get(j.id)!.finishedAt));

    const resumed = await ctx.jobs.resume(failed.id);
    assert.equal(resumed.n, 7);
    await until(() => ctx.jobs.get(resumed.job)!.status === "succeeded");
    assert.equal(ctx.jobs.get(resumed.job)!.result, 7);

    await assert.rejects(ctx.jobs.resume(ok.id), NotResumableError);
    await assert.rejects(ctx.jobs.resume(other.id), /kind other/);
    await assert.rejects(ctx.jobs.resume(old.id), /request was not stored/);
    await assert.rejects(ctx.jobs.resume("nope"), NotFoundError);
  } finally {
    await ctx.close();
  }
});
