import assert from "node:assert/strict";
import {
  type JobEvent,
  JobFinishedError,
  JobManager,
  ShuttingDownError,
} from "../../src/jobs/manager.ts";
import { nextProgress } from "../../src/jobs/progress.ts";
import { memoryLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite.ts";
import { NotFoundError } from "../../src/errors.ts";
import { until } from "../helpers/app.ts";
import { STORE_MODULES } from "../../src/store_modules.ts";

async function setup(options: { concurrency?: number; persistIntervalMs?: number } = {}) {
  const dir = await Deno.makeTempDir({ prefix: "simfluence-jobs-" });
  const store = SqliteStore.open({ dataDir: dir, modules: STORE_MODULES });
  const logger = memoryLogger();
  const jobs = new JobManager({ store: store.jobs, logger, ...options });
  return {
    store,
    jobs,
    logger,
    async close() {
      await jobs.shutdown(1_000);
      store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A handler that waits until released (or aborted), for deterministic interleavings. */
function gate() {
  let release!: (value: unknown) => void;
  const released = new Promise((resolve) => (release = resolve));
  return { release, released };
}

function abortable(signal: AbortSignal, work: Promise<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    work.then(resolve, reject);
  });
}

Deno.test("progress: one meaning for every field; rates measured over the recent window", () => {
  const clock = { startedMs: 0, phaseStartedMs: 0 };
  const p1 = nextProgress(null, { phase: "train", step: 10, total: 40 }, clock, 2_000);
  assert.equal(p1.fraction, 0.25);
  assert.equal(p1.unit, "steps", "step counts steps unless the job names its unit");
  assert.equal(p1.throughput, 5); // 10 steps in 2 s
  assert.equal(p1.throughputUnit, "steps");
  assert.equal(p1.etaSeconds, 6); // a quarter in 2 s: 6 s for the rest
  const p2 = nextProgress(p1, { step: 30 }, clock, 4_000);
  assert.equal(p2.total, 40, "total carries over within a phase");
  assert.equal(p2.fraction, 0.75);
  assert.equal(p2.etaSeconds, 0.25 / (0.75 / 4));
  // A phase that counts nothing has no throughput (never a "fraction" unit).
  const p3 = nextProgress(p2, { phase: "score", fraction: 0.8 }, clock, 5_000);
  assert.equal(p3.step, null, "steps reset with a new phase");
  assert.equal(p3.message, null);
  assert.equal(p3.throughput, null);
  assert.equal(p3.throughputUnit, null);
  assert.equal(p3.unit, null);
  // Steps of a new phase are timed from the previous phase's last report, in its own unit.
  const p4 = nextProgress(p3, { phase: "write", step: 3, total: 9, unit: "files" }, clock, 8_000);
  assert.deepEqual([p4.throughput, p4.throughputUnit, p4.unit], [1, "files", "files"]);
  assert.equal(p4.fraction, 0.8, "the fraction never goes back");
  const given = nextProgress(
    p4,
    { fraction: 2, etaSeconds: 7, throughput: 99, message: "m" },
    clock,
    6_000,
  );
  assert.equal(given.fraction, 1, "clamped");
  assert.equal(given.etaSeconds, 7);
  assert.equal(given.throughput, 99);
  assert.equal(given.throughputUnit, "files", "an explicit throughput is in the phase's unit");
  assert.equal(given.message, "m");
  const tokens = nextProgress(
    given,
    { throughput: 1234, throughputUnit: "tokens", details: { run: 1, trainLoss: 0.5 } },
    clock,
    6_200,
  );
  assert.equal(tokens.throughputUnit, "tokens");
  assert.deepEqual(tokens.details, { run: 1, trainLoss: 0.5 });
  assert.deepEqual(
    nextProgress(tokens, { step: 4 }, clock, 6_300).details,
    { run: 1, trainLoss: 0.5 },
    "details carry over within a phase",
  );
  // The job's last event (the manager's fraction 1) keeps the unit the job measured in.
  const last = nextProgress(tokens, { fraction: 1 }, clock, 6_400);
  assert.deepEqual([last.throughput, last.throughputUnit, last.etaSeconds], [1234, "tokens", 0]);
  const nan = nextProgress(given, { fraction: NaN }, clock, 6_500);
  assert.equal(nan.fraction, 1, "NaN is ignored");

  // A slow start (set-up, compilation) does not skew the ETA once the work runs at its pace.
  const slow = { startedMs: 0, phaseStartedMs: 0 };
  let p = nextProgress(null, { phase: "started", fraction: 0 }, slow, 0);
  for (const [s, fraction] of [[100, 0.1], [101, 0.2], [102, 0.3]]) {
    p = nextProgress(p, { phase: "work", fraction }, slow, s * 1000);
  }
  assert.ok(Math.abs(p.etaSeconds! - 7) < 1e-9, `ETA ${p.etaSeconds} s, not 7 s`);
});

Deno.test("job manager", async (t) => {
  const ctx = await setup({ persistIntervalMs: 100 });
  const { jobs, store } = ctx;

  await t.step("submit returns queued at once; the handler runs later and succeeds", async () => {
    let ran = false;
    const job = jobs.submit("echo", { x: 1 }, (c) => {
      ran = true;
      return Promise.resolve({ doubled: (c.input as { x: number }).x * 2 });
    });
    assert.equal(job.status, "queued");
    assert.equal(ran, false, "handler must not run inside submit");
    await until(() => jobs.get(job.id)!.status === "succeeded");
    const stored = store.jobs.get(job.id)!;
    assert.equal(stored.status, "succeeded");
    assert.deepEqual(stored.result, { doubled: 2 });
    assert.equal(stored.progress?.fraction, 1);
    assert.ok(stored.startedAt && stored.finishedAt);
  });

  await t.step("a throwing handler fails with its message", async () => {
    const job = jobs.submit("bad", null, () => {
      throw new Error("nope");
    });
    await until(() => jobs.get(job.id)!.status === "failed");
    assert.equal(store.jobs.get(job.id)!.error, "nope");
  });

  await t.step("a result JSON cannot hold fails the job instead of losing it", async () => {
    const job = jobs.submit("bigint", null, () => Promise.resolve({ n: 1n }));
    await until(() => jobs.get(job.id)!.status === "failed");
    assert.match(store.jobs.get(job.id)!.error ?? "", /JSON/);
  });

  await t.step("progress reaches subscribers at once and the store throttled", async () => {
    const g = gate();
    const events: JobEvent[] = [];
    let report!: (n: number) => void;
    const job = jobs.submit("steps", null, async (c) => {
      report = (n) => c.progress({ phase: "train", step: n, total: 100 });
      await g.released;
      return "ok";
    });
    jobs.subscribe(job.id, (e) => events.push(e));
    await until(() => report !== undefined);
    for (let i = 1; i <= 50; i++) report(i);
    assert.equal(
      events.filter((e) => e.type === "progress" && e.progress.phase === "train").length,
      50,
    );
    // Throttled: the store has not seen the burst's end yet...
    assert.notEqual(store.jobs.get(job.id)!.progress?.step, 50);
    // ...but gets it from the trailing write.
    await until(() => store.jobs.get(job.id)!.progress?.step === 50, 2_000);
    assert.equal(jobs.get(job.id)!.progress?.fraction, 0.5);
    g.release(null);
    await until(() => events.at(-1)?.type === "done");
    const done = events.at(-1) as { type: "done"; job: { result: unknown } };
    assert.equal(done.job.result, "ok");
  });

  await t.step("subscribe replays the current state first", async () => {
    const g = gate();
    const job = jobs.submit("replay", null, async (c) => {
      c.progress({ phase: "load", fraction: 0.3, message: "loading" });
      await g.released;
    });
    await until(() => jobs.get(job.id)!.progress?.phase === "load");
    const events: JobEvent[] = [];
    jobs.subscribe(job.id, (e) => events.push(e));
    assert.equal(events.length, 1);
    assert.equal(events[0].type, "progress");
    assert.equal((events[0] as { progress: { message: string } }).progress.message, "loading");
    g.release(null);
    await until(() => events.length === 2);
    // A finished job replays its final event.
    const late: JobEvent[] = [];
    jobs.subscribe(job.id, (e) => late.push(e));
    assert.deepEqual(late.map((e) => e.type), ["done"]);
    assert.equal(jobs.subscribe("missing", () => {}), null);
  });

  await t.step("cancel: a running job sees its signal abort and ends cancelled", async () => {
    const g = gate();
    let sawAbort = false;
    const job = jobs.submit("long", null, async (c) => {
      c.signal.addEventListener("abort", () => (sawAbort = true));
      await abortable(c.signal, g.released);
    });
    await until(() => jobs.get(job.id)!.status === "running");
    const after = jobs.cancel(job.id);
    assert.equal(after.status, "running", "still settling");
    await until(() => jobs.get(job.id)!.status === "cancelled");
    assert.ok(sawAbort);
    assert.equal(store.jobs.get(job.id)!.status, "cancelled");
    assert.throws(() => jobs.cancel(job.id), JobFinishedError);
    assert.throws(() => jobs.cancel("missing"), NotFoundError);
  });

  await t.step("a handler that ignores cancellation and returns still ends cancelled", async () => {
    const g = gate();
    const job = jobs.submit("stubborn", null, async () => {
      await g.released;
      return "finished anyway";
    });
    await until(() => jobs.get(job.id)!.status === "running");
    jobs.cancel(job.id);
    g.release(null);
    await until(() => jobs.get(job.id)!.status === "cancelled");
    assert.equal(store.jobs.get(job.id)!.result, null);
  });

  await ctx.close();
});

Deno.test("job manager: queueing, concurrency and shutdown", async (t) => {
  const ctx = await setup({ concurrency: 1 });
  const { jobs, store } = ctx;

  await t.step("jobs run one at a time; a queued job cancels at once", async () => {
    const g = gate();
    const order: string[] = [];
    const a = jobs.submit("a", null, async () => {
      order.push("a");
      await g.released;
    });
    const b = jobs.submit("b", null, () => (order.push("b"), Promise.resolve()));
    const c = jobs.submit("c", null, () => (order.push("c"), Promise.resolve()));
    await until(() => jobs.get(a.id)!.status === "running");
    assert.equal(jobs.get(b.id)!.status, "queued");
    const cancelled = jobs.cancel(c.id);
    assert.equal(cancelled.status, "cancelled");
    assert.equal(store.jobs.get(c.id)!.status, "cancelled");
    g.release(null);
    await until(() => jobs.get(b.id)!.status === "succeeded");
    assert.deepEqual(order, ["a", "b"]);
  });

  await t.step("shutdown cancels running and queued jobs and refuses new ones", async () => {
    const running = jobs.submit("r", null, (c) => abortable(c.signal, new Promise(() => {})));
    const queued = jobs.submit("q", null, () => Promise.resolve());
    await until(() => jobs.get(running.id)!.status === "running");
    await jobs.shutdown(2_000);
    assert.equal(store.jobs.get(running.id)!.status, "cancelled");
    assert.equal(store.jobs.get(queued.id)!.status, "cancelled");
    assert.throws(() => jobs.submit("late", null, () => Promise.resolve()), ShuttingDownError);
    assert.equal(jobs.activeCount, 0);
  });

  await ctx.close();
});

Deno.test("job manager: a handler that never stops is marked interrupted after the timeout", async () => {
  const ctx = await setup();
  const g = gate();
  const job = ctx.jobs.submit("stuck", null, () => g.released);
  await until(() => ctx.jobs.get(job.id)!.status === "running");
  const started = Date.now();
  await ctx.jobs.shutdown(100);
  assert.ok(Date.now() - started < 1_000);
  const stored = ctx.store.jobs.get(job.id)!;
  assert.equal(stored.status, "failed");
  assert.equal(stored.error, "interrupted");
  g.release(null); // settling late must not overwrite the record
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(ctx.store.jobs.get(job.id)!.status, "failed");
  await ctx.close();
});
