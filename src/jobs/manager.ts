// Runs long work (training simulators, influence computations) as background jobs: a request
// submits and returns at once; handlers report progress, which subscribers (SSE) see immediately
// and the store persists at most every `persistIntervalMs`.
import type { ComputeBackend } from "../gpu/backend.ts";
import type { Logger } from "../log.ts";
import type { JobProgress, JobRecord, JobStore } from "../store/store.ts";
import { ConflictError, NotFoundError, UnavailableError } from "../errors.ts";
import { FINISHED_STATUSES } from "../store/store.ts";
import { nextProgress, type ProgressClock, type ProgressUpdate } from "./progress.ts";

export type { ProgressUpdate };

export interface JobContext<I = unknown> {
  readonly id: string;
  readonly input: I;
  /** Aborted when the job is cancelled or the service shuts down; handlers should stop promptly. */
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  /**
   * Records what the job has made so far (e.g. the runs it stored), persisted at once: it stays
   * the job's result when the job fails, is cancelled, or its process dies.
   */
  keep(partial: unknown): void;
  readonly logger: Logger;
}

/** Starts a new job that redoes a failed or cancelled one; returns its id and what else to answer. */
export type JobResumer = (
  previous: JobRecord,
) => Promise<{ job: string } & Record<string, unknown>>;

export class NotResumableError extends ConflictError {
  override name = "NotResumableError";
  constructor(job: JobRecord, why: string) {
    super(
      `job ${job.id} cannot be resumed: ${why}`,
      { job: job.id, status: job.status },
      "not_resumable",
    );
  }
}

export type JobHandler<I = unknown, R = unknown> = (ctx: JobContext<I>) => Promise<R>;

/** What `build` may use besides the record: this node's logger and the attempt's signal. */
export interface JobBuildHelpers {
  readonly logger: Logger;
  readonly signal: AbortSignal;
}

/**
 * A kind of job any node can run from its stored record alone: `build` makes the handler from the
 * record (its `input`, and in `result` what an earlier attempt of the same job kept) with this
 * node's own dependencies, so a job started on one node can run, or run again, on another.
 */
export interface JobKind<I = unknown> {
  build: (record: JobRecord & { input: I }, helpers: JobBuildHelpers) => Promise<JobHandler<I>>;
  /** "gpu": runs only where a WebGPU adapter is; "cpu": anywhere. */
  needs: "gpu" | "cpu";
  /** Runs only on the node that took the request (it concerns that node itself). */
  local?: true;
}

/** What the registry says of a kind (for the queue layer: where a job may run). */
export interface JobKindInfo {
  kind: string;
  needs: "gpu" | "cpu";
  local: boolean;
}

export type JobEvent =
  | { type: "progress"; progress: JobProgress }
  | { type: "done" | "failed" | "cancelled"; job: JobRecord };

export type JobListener = (event: JobEvent) => void;

export class JobFinishedError extends ConflictError {
  override name = "JobFinishedError";
  constructor(readonly job: JobRecord) {
    super(`job ${job.id} already finished (${job.status})`, null, "job_finished");
  }
}

export class ShuttingDownError extends UnavailableError {
  override name = "ShuttingDownError";
  constructor() {
    super("the service is shutting down and accepts no new jobs", null, "shutting_down");
  }
}

/**
 * How a cluster (src/cluster/jobs.ts) takes over what a lone node does itself; absent in
 * single-process mode, where every job runs in this process as before.
 */
export interface JobCluster {
  /** Hands a stored queued job to the cluster's queue: whichever node can run it takes it. */
  dispatch(record: JobRecord, kind: JobKindInfo): void;
  /** Cancels a queued or running job this node does not run; returns its record now. */
  cancel(record: JobRecord): JobRecord;
  /** Relays the events of a job another node runs (or will run); returns the unsubscribe. */
  watch(id: string, listener: JobListener): () => void;
  /** Tells the other nodes of a persisted progress update or the final state of a job run here. */
  published(record: JobRecord, event: JobEvent): void;
}

export interface JobManagerOptions {
  store: JobStore;
  logger: Logger;
  /** Jobs run at once; the rest wait queued. One by default: jobs share one GPU. */
  concurrency?: number;
  /** Where this node's kernels run now (null without a usable runtime), recorded on each job. */
  computeBackend?: () => ComputeBackend | null;
  persistIntervalMs?: number;
}

interface ActiveJob {
  record: JobRecord;
  /** Makes the handler when the job starts (from its kind, or the closure given to submit). */
  build: (record: JobRecord, helpers: JobBuildHelpers) => Promise<JobHandler<unknown, unknown>>;
  controller: AbortController;
  listeners: Set<JobListener>;
  clock: ProgressClock;
  lastPersistMs: number;
  persistTimer: ReturnType<typeof setTimeout> | null;
  settled: Promise<void>;
  resolveSettled: () => void;
}

const finalEventType = { succeeded: "done", failed: "failed", cancelled: "cancelled" } as const;

export class JobManager {
  private readonly store: JobStore;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly persistIntervalMs: number;
  private readonly computeBackend: () => ComputeBackend | null;
  private readonly active = new Map<string, ActiveJob>();
  private readonly queue: string[] = [];
  private readonly resumers = new Map<string, JobResumer>();
  private readonly kinds = new Map<string, JobKind<unknown>>();
  private running = 0;
  private accepting = true;
  private cluster: JobCluster | null = null;
  private readonly abandoned = new Set<string>();

  constructor(options: JobManagerOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.persistIntervalMs = options.persistIntervalMs ?? 250;
    this.computeBackend = options.computeBackend ?? (() => null);
  }

  /**
   * Declares how jobs of `kind` are built from their stored record; one definition per kind (a
   * later one replaces it, as a new app on the same manager does).
   */
  define<I>(kind: string, spec: JobKind<I>): void {
    this.kinds.set(kind, spec as JobKind<unknown>);
  }

  /** From now on jobs of defined, non-local kinds go to the cluster's queue (src/cluster/). */
  attachCluster(cluster: JobCluster): void {
    this.cluster = cluster;
  }

  /**
   * Stops a job that another node has taken over (this node was presumed dead) without writing
   * its row again: its handler is aborted and its end is not persisted or published.
   */
  abandon(id: string): void {
    const live = this.active.get(id);
    if (!live) return;
    this.abandoned.add(id);
    this.logger.warn("job taken over by another node; stopping it here", { jobId: id });
    live.controller.abort(new DOMException("job taken over by another node", "AbortError"));
  }

  /** Whether this process holds the job (queued here or running). */
  isActive(id: string): boolean {
    return this.active.has(id);
  }

  /** The jobs running in this process now (a cluster node reports them in its heartbeat). */
  runningJobIds(): string[] {
    return [...this.active.values()].filter((live) => live.record.status === "running")
      .map((live) => live.record.id);
  }

  /** The kind's needs, or null when it is not defined on this node. */
  kindInfo(kind: string): JobKindInfo | null {
    const spec = this.kinds.get(kind);
    return spec ? { kind, needs: spec.needs, local: spec.local === true } : null;
  }

  /** Every kind defined on this node. */
  definedKinds(): JobKindInfo[] {
    return [...this.kinds.keys()].sort().map((kind) => this.kindInfo(kind)!);
  }

  /**
   * Records the job as queued and returns at once; it runs in the background through its kind's
   * `build` (the same path as runStored). A handler is accepted only for a kind that is not
   * defined: such a job can run only in this process.
   */
  submit<I>(kind: string, input: I): JobRecord;
  submit<I, R>(kind: string, input: I, handler: JobHandler<I, R>): JobRecord;
  submit<I, R>(kind: string, input: I, handler?: JobHandler<I, R>): JobRecord {
    if (!this.accepting) throw new ShuttingDownError();
    const build = this.builderOf(kind, handler as JobHandler<unknown, unknown> | undefined);
    const record = this.store.create({ id: crypto.randomUUID(), kind, input });
    const info = handler ? null : this.kindInfo(kind);
    if (this.cluster && info && !info.local) {
      this.cluster.dispatch(record, info);
      return { ...record };
    }
    this.enqueue(record, build);
    return { ...record };
  }

  /**
   * Runs a stored queued or running job (e.g. one a queue hands this node, or one whose node died)
   * through its kind's `build` on this node, exactly as a submitted job runs. Resolves with the
   * job's final record. `signal` (the queue's) cancels it as DELETE /v1/jobs/:id would. Rejects
   * (nothing run) a finished record, one already running here, and a kind not defined here.
   */
  async runStored(record: JobRecord, signal?: AbortSignal): Promise<JobRecord> {
    if (!this.accepting) throw new ShuttingDownError();
    if (record.status !== "queued" && record.status !== "running") {
      throw new JobFinishedError(record);
    }
    if (this.active.has(record.id)) {
      throw new ConflictError(`job ${record.id} already runs on this node`, { job: record.id });
    }
    if (!this.kinds.has(record.kind)) {
      throw new NotFoundError(`job kind ${record.kind} (not defined on this node)`, {
        job: record.id,
        kind: record.kind,
      });
    }
    const live = this.enqueue(
      { ...record, status: "queued" },
      this.builderOf(record.kind, undefined),
    );
    if (signal) {
      const stop = () => this.active.has(record.id) && this.cancel(record.id);
      if (signal.aborted) stop();
      else signal.addEventListener("abort", stop, { once: true });
    }
    await live.settled;
    return this.get(record.id) ?? { ...live.record };
  }

  private builderOf(kind: string, handler: JobHandler<unknown, unknown> | undefined) {
    const spec = this.kinds.get(kind);
    if (spec && handler) {
      throw new TypeError(`job kind ${kind} is defined: submit(kind, input) builds its handler`);
    }
    if (spec) return spec.build;
    if (!handler) throw new TypeError(`job kind ${kind} is not defined and no handler was given`);
    return () => Promise.resolve(handler);
  }

  private enqueue(record: JobRecord, build: ActiveJob["build"]): ActiveJob {
    let resolveSettled!: () => void;
    const settled = new Promise<void>((resolve) => (resolveSettled = resolve));
    const live: ActiveJob = {
      record,
      build,
      controller: new AbortController(),
      listeners: new Set(),
      clock: { startedMs: 0, phaseStartedMs: 0 },
      lastPersistMs: 0,
      persistTimer: null,
      settled,
      resolveSettled,
    };
    this.active.set(record.id, live);
    this.queue.push(record.id);
    this.logger.info("job queued", { jobId: record.id, kind: record.kind });
    // Start on a later tick so submit never runs handler code inside the request.
    queueMicrotask(() => this.pump());
    return live;
  }

  /** How jobs of `kind` are resumed (POST /v1/jobs/:id/resume); one resumer per kind. */
  registerResumer(kind: string, resumer: JobResumer): void {
    this.resumers.set(kind, resumer);
  }

  /** Starts a job that redoes a failed or cancelled one (interrupted by a crash included). */
  async resume(id: string): Promise<{ job: string } & Record<string, unknown>> {
    const previous = this.get(id);
    if (!previous) throw new NotFoundError(`job ${id}`);
    if (previous.status !== "failed" && previous.status !== "cancelled") {
      throw new NotResumableError(previous, `it is ${previous.status}, not failed or cancelled`);
    }
    const resumer = this.resumers.get(previous.kind);
    if (!resumer) {
      throw new NotResumableError(previous, `jobs of kind ${previous.kind} are not resumable`);
    }
    return await resumer(previous);
  }

  /** The freshest view: in-memory progress for live jobs, the store otherwise. */
  get(id: string): JobRecord | null {
    const live = this.active.get(id);
    return live ? { ...live.record } : this.store.get(id);
  }

  list(query: Parameters<JobStore["list"]>[0]): { jobs: JobRecord[]; total: number } {
    const page = this.store.list(query);
    return { ...page, jobs: page.jobs.map((job) => this.get(job.id) ?? job) };
  }

  /**
   * Cancels a job: a queued one at once, a running one by aborting its signal (it settles as
   * `cancelled` when the handler returns). Returns the job's current record.
   */
  cancel(id: string): JobRecord {
    const live = this.active.get(id);
    if (!live) {
      const stored = this.store.get(id);
      if (!stored) throw new NotFoundError(`job ${id}`);
      if (this.cluster && !FINISHED_STATUSES.includes(stored.status)) {
        return this.cluster.cancel(stored);
      }
      throw new JobFinishedError(stored);
    }
    if (live.record.status === "queued") {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.finish(live, "cancelled", { error: "cancelled before it started" });
    } else if (!live.controller.signal.aborted) {
      this.logger.info("job cancel requested", { jobId: id });
      live.controller.abort(new DOMException("job cancelled", "AbortError"));
    }
    return this.get(id)!;
  }

  /**
   * Calls `listener` with every later event of the job. With `replay`, first delivers the current
   * state (a progress snapshot, or the final event of a finished job). Returns an unsubscribe
   * function, or null for an unknown job.
   */
  subscribe(id: string, listener: JobListener, replay = true): (() => void) | null {
    const live = this.active.get(id);
    if (live) {
      if (replay) listener({ type: "progress", progress: this.snapshot(live.record) });
      live.listeners.add(listener);
      return () => live.listeners.delete(listener);
    }
    const stored = this.store.get(id);
    if (!stored) return null;
    if (this.cluster && !FINISHED_STATUSES.includes(stored.status)) {
      // Another node runs it (or will): its updates come over the cluster's bus.
      if (replay) listener({ type: "progress", progress: this.snapshot(stored) });
      return this.cluster.watch(id, listener);
    }
    if (replay && FINISHED_STATUSES.includes(stored.status)) {
      listener({
        type: finalEventType[stored.status as keyof typeof finalEventType],
        job: stored,
      });
    }
    return () => {};
  }

  /** Stops accepting jobs, cancels all, and waits up to `timeoutMs` for handlers to stop. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    this.accepting = false;
    for (const id of this.queue.splice(0)) {
      const live = this.active.get(id);
      if (live) this.finish(live, "cancelled", { error: "service shutting down" });
    }
    const running = [...this.active.values()];
    for (const live of running) {
      live.controller.abort(new DOMException("service shutting down", "AbortError"));
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(running.map((live) => live.settled)), timedOut]);
    clearTimeout(timer);
    for (const live of [...this.active.values()]) {
      this.logger.warn("job did not stop before shutdown", { jobId: live.record.id });
      this.finish(live, "failed", { error: "interrupted" });
    }
  }

  /** Live subscriptions of a job (0 when it is unknown or finished). */
  subscriberCount(id: string): number {
    return this.active.get(id)?.listeners.size ?? 0;
  }

  get activeCount(): number {
    return this.active.size;
  }

  private snapshot(record: JobRecord): JobProgress {
    return record.progress ?? {
      phase: record.status,
      fraction: 0,
      step: null,
      total: null,
      etaSeconds: null,
      unit: null,
      throughput: null,
      throughputUnit: null,
      message: null,
      details: null,
      updatedAt: record.createdAt,
    };
  }

  private pump(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const live = this.active.get(this.queue.shift()!);
      if (live) this.start(live);
    }
  }

  private start(live: ActiveJob): void {
    this.running++;
    const now = Date.now();
    live.clock = { startedMs: now, phaseStartedMs: now };
    live.record.status = "running";
    live.record.startedAt = new Date(now).toISOString();
    live.record.backend = this.computeBackend();
    live.record.progress = nextProgress(null, { phase: "started", fraction: 0 }, live.clock, now);
    this.persist(live, {
      status: "running",
      startedAt: live.record.startedAt,
      backend: live.record.backend,
      progress: live.record.progress,
    });
    this.emit(live, { type: "progress", progress: live.record.progress });
    this.cluster?.published(live.record, { type: "progress", progress: live.record.progress });
    this.logger.info("job started", { jobId: live.record.id, kind: live.record.kind });
    const ctx: JobContext = {
      id: live.record.id,
      input: live.record.input,
      signal: live.controller.signal,
      logger: this.logger.child({ jobId: live.record.id }),
      progress: (update) => this.onProgress(live, update),
      keep: (partial) => {
        live.record.result = partial;
        this.persist(live, { result: partial });
      },
    };
    const helpers: JobBuildHelpers = { logger: ctx.logger, signal: ctx.signal };
    // Promise.resolve().then: a build or handler that throws synchronously still settles as a
    // failure. The build sees the record as stored, with what an earlier attempt kept.
    Promise.resolve().then(() => live.build({ ...live.record }, helpers)).then((handler) =>
      handler(ctx)
    ).then(
      (result) => {
        if (live.controller.signal.aborted) this.finishCancelled(live);
        else this.finish(live, "succeeded", { result });
      },
      (error) => {
        if (live.controller.signal.aborted) {
          this.finishCancelled(live);
        } else {
          this.logger.error("job failed", { jobId: live.record.id, error });
          this.finish(live, "failed", {
            error: error instanceof Error ? error.message : String(error),
          });
        }
      },
    );
  }

  private onProgress(live: ActiveJob, update: ProgressUpdate): void {
    if (live.record.status !== "running" || !this.active.has(live.record.id)) return;
    const progress = nextProgress(live.record.progress, update ?? {}, live.clock, Date.now());
    live.record.progress = progress;
    this.emit(live, { type: "progress", progress });
    const wait = live.lastPersistMs + this.persistIntervalMs - Date.now();
    if (wait <= 0) {
      this.persistProgress(live);
    } else if (live.persistTimer === null) {
      // Trailing write, so the last update before a pause is stored too.
      live.persistTimer = setTimeout(() => {
        live.persistTimer = null;
        if (this.active.has(live.record.id)) this.persistProgress(live);
      }, wait);
    }
  }

  private persistProgress(live: ActiveJob): void {
    live.lastPersistMs = Date.now();
    const stored = this.persist(live, { progress: live.record.progress });
    if (stored && live.record.progress && !this.abandoned.has(live.record.id)) {
      this.cluster?.published(live.record, { type: "progress", progress: live.record.progress });
    }
  }

  private persist(live: ActiveJob, patch: Parameters<JobStore["update"]>[1]): boolean {
    // The row belongs to the node that took the job over.
    if (this.abandoned.has(live.record.id)) return true;
    try {
      this.store.update(live.record.id, patch);
      return true;
    } catch (error) {
      this.logger.error("job state not persisted", { jobId: live.record.id, error });
      return false;
    }
  }

  private finishCancelled(live: ActiveJob): void {
    const reason = live.controller.signal.reason;
    this.finish(live, "cancelled", {
      error: reason instanceof Error ? reason.message : "job cancelled",
    });
  }

  private finish(
    live: ActiveJob,
    status: "succeeded" | "failed" | "cancelled",
    outcome: { result?: unknown; error?: string },
  ): void {
    if (!this.active.delete(live.record.id)) return;
    if (live.persistTimer !== null) clearTimeout(live.persistTimer);
    if (live.record.status === "running") this.running--;
    const record = live.record;
    record.status = status;
    record.finishedAt = new Date().toISOString();
    record.error = outcome.error ?? null;
    // A job that stopped keeps what it recorded with ctx.keep; a success replaces it.
    record.result = status === "succeeded" ? outcome.result ?? null : record.result ?? null;
    if (status === "succeeded" && record.progress) {
      record.progress = nextProgress(record.progress, { fraction: 1 }, live.clock, Date.now());
    }
    const patch = {
      status,
      finishedAt: record.finishedAt,
      error: record.error,
      result: record.result,
      progress: record.progress,
    };
    if (!this.persist(live, patch) && status === "succeeded") {
      // Most likely a result JSON cannot represent (BigInt, cycle): fail instead of losing it.
      record.status = "failed";
      record.result = null;
      record.error = "job result could not be stored (is it JSON-serialisable?)";
      this.persist(live, { ...patch, status: "failed", result: null, error: record.error });
    }
    this.logger.info("job finished", {
      jobId: record.id,
      status: record.status,
      error: record.error ?? undefined,
    });
    const final: JobEvent = {
      type: finalEventType[record.status as keyof typeof finalEventType],
      job: { ...record },
    };
    this.emit(live, final);
    if (!this.abandoned.delete(record.id)) this.cluster?.published(record, final);
    live.listeners.clear();
    live.resolveSettled();
    this.pump();
  }

  private emit(live: ActiveJob, event: JobEvent): void {
    for (const listener of [...live.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn("job listener threw", { jobId: live.record.id, error });
      }
    }
  }
}
