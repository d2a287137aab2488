// Simulations across a cluster's nodes (PostgreSQL mode). The node that takes POST /v1/simulations
// computes it in its own SimulationRegistry, so the limits that protect a host (simulations at once,
// the memory their events take while running) stay per node. Each batch of events is appended to
// PostgreSQL (src/cluster/simulation_log_store.ts) and announced on the bus channel "simulations"
// with the new event count; a node whose clients watch that simulation reads the new rows once per
// notice, for all its watchers together. No node polls for events.
//
// Watchers are counted per node in the database (confirmed by each node's heartbeat, so a dead
// node's stop counting); the computing node holds a watch on its registry while any node has one,
// so "cancelled when unwatched for 10 s" means unwatched cluster-wide.
// DELETE on any node reaches the computing node through the bus. A node that dies leaves its
// running simulations behind: once nothing was written for `lostAfterMs`, whichever node is asked
// about one ends it with an `error` event (code node_lost).
import type { ClusterBus } from "./bus.ts";
import { DomainError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import type { SimulationPlan } from "../simfluence/simulation.ts";
import {
  SimulationRegistry,
  type SimulationRegistryOptions,
  type Simulations,
  type SimulationStatus,
  type SimulationWatch,
  type StoredEvent,
} from "../simfluence/simulation_registry.ts";
import { type SimulationLogStore, statusOf } from "./simulation_log_store.ts";

/** What travels on the "simulations" channel (ids and counts; the events stay in the table). */
export type SimulationNotice =
  | { kind: "events"; id: string; events: number; finished: boolean }
  | { kind: "watchers"; id: string }
  | { kind: "cancel"; id: string };

export interface ClusterSimulationsOptions {
  log: SimulationLogStore;
  bus: ClusterBus;
  node: string;
  logger: Logger;
  /** This node's registry's options (its limits, its event source); the observer is ours. */
  registry?: Omit<SimulationRegistryOptions, "observer">;
  /** Finished simulations stay replayable this long; 10 minutes, as on one node. */
  ttlMs?: number;
  /**
   * A running simulation whose node wrote nothing for this long is taken as lost, and watchers
   * whose node did not confirm them for this long stop counting; 60 s.
   */
  lostAfterMs?: number;
  /** How often a node marks its running simulations alive; 10 s. */
  heartbeatMs?: number;
  /** Watcher counts are written at most this often per simulation (300 connect at once); 50 ms. */
  watcherFlushMs?: number;
  /**
   * Simulations this node streams at once (it holds each one's events in memory while its clients
   * watch); past it a watch of another is a 429. As many as one node keeps; 64.
   */
  maxWatched?: number;
}

/** One simulation's events on this node, shared by every local watcher of it. */
interface SharedLog {
  id: string;
  events: StoredEvent[];
  finished: boolean;
  wakes: Set<() => void>;
  watchers: number;
  /** The count last written to the table, and a pending write. */
  written: number;
  flushTimer: ReturnType<typeof setTimeout> | null;
}

export class ClusterSimulations implements Simulations {
  private readonly local: SimulationRegistry;
  private readonly logs = new Map<string, SharedLog>();
  /** Watches this node holds on its own registry for watchers elsewhere in the cluster. */
  private readonly keepers = new Map<string, SimulationWatch>();
  /** Simulations this node computes now (their rows get its heartbeat). */
  private readonly computing = new Set<string>();
  /** Why the row of the simulation being started could not be written (start throws it). */
  private createFailure: unknown = null;
  private readonly log: SimulationLogStore;
  private readonly bus: ClusterBus;
  private readonly node: string;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly lostAfterMs: number;
  private readonly watcherFlushMs: number;
  private readonly maxWatched: number;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly unsubscribe: (() => void)[];

  constructor(options: ClusterSimulationsOptions) {
    this.log = options.log;
    this.bus = options.bus;
    this.node = options.node;
    this.logger = options.logger;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.lostAfterMs = options.lostAfterMs ?? 60_000;
    this.watcherFlushMs = options.watcherFlushMs ?? 50;
    this.maxWatched = options.maxWatched ?? options.registry?.maxEntries ?? 64;
    this.local = new SimulationRegistry({
      ...options.registry,
      ttlMs: this.ttlMs,
      observer: {
        started: (status) => {
          this.computing.add(status.id);
          try {
            this.log.create(status, this.node, Date.now());
          } catch (error) {
            this.createFailure = error;
          }
        },
        published: (status, events, first) => this.guard(() => this.append(status, events, first)),
      },
    });
    // A node restarted under the same id computes nothing it listed as running before.
    for (const id of this.log.runningOn(this.node)) this.endLost(id, 0);
    this.unsubscribe = [
      this.bus.subscribe("simulations", (payload) => this.onNotice(payload as SimulationNotice)),
      // Notices may have been lost while the bus reconnected: read what each log missed.
      this.bus.onReconnect(() => {
        for (const shared of this.logs.values()) this.guard(() => this.catchUp(shared));
      }),
    ];
    // Not a poll for events: the heartbeat of what this node computes, and a check that what its
    // clients watch still has a live node.
    this.timer = setInterval(() => this.guard(() => this.tick()), options.heartbeatMs ?? 10_000);
  }

  start(rt: GpuRuntime | null, plan: SimulationPlan): { id: string } {
    this.log.expire(Date.now() - this.ttlMs);
    this.createFailure = null;
    const started = this.local.start(rt, plan);
    if (this.createFailure !== null) {
      // No other node could see it: stop it here and answer the database's error.
      const failure = this.createFailure;
      this.createFailure = null;
      this.local.cancel(started.id);
      throw failure;
    }
    return started;
  }

  status(id: string): SimulationStatus | null {
    this.reapIfLost([id]);
    const row = this.log.get(id, this.watchersSince());
    return row ? statusOf(row) : null;
  }

  list(page: { limit: number; offset: number }) {
    const now = Date.now();
    this.log.expire(now - this.ttlMs);
    this.reapIfLost();
    const { rows, total } = this.log.list(page, this.watchersSince());
    return { simulations: rows.map(statusOf), total };
  }

  watch(id: string): SimulationWatch | null {
    // Hundreds of clients may watch one simulation: only the first on this node costs queries
    // (a watched log's node is checked for life on the heartbeat instead).
    let shared = this.logs.get(id);
    if (!shared) {
      this.reapIfLost([id]);
      if (!this.log.get(id, this.watchersSince())) return null;
      if (this.logs.size >= this.maxWatched) {
        throw new DomainError(
          "rate_limited",
          "too_many_simulations_watched",
          `this node streams ${this.logs.size} simulations (at most ${this.maxWatched} at once); ` +
            "retry in 1 s or on another node",
          { watched: this.logs.size, maxWatched: this.maxWatched, retryAfterSeconds: 1 },
        );
      }
      shared = {
        id,
        events: [],
        finished: false,
        wakes: new Set(),
        watchers: 0,
        written: 0,
        flushTimer: null,
      };
      this.logs.set(id, shared);
      this.catchUp(shared);
    }
    const log = shared;
    log.watchers++;
    this.flushWatchers(log);
    let closed = false;
    return {
      get length() {
        return log.events.length;
      },
      get finished() {
        return log.finished;
      },
      at: (index) => log.events[index],
      onChange: (wake) => {
        log.wakes.add(wake);
        return () => log.wakes.delete(wake);
      },
      close: () => {
        if (closed) return;
        closed = true;
        log.watchers--;
        this.flushWatchers(log);
      },
    };
  }

  cancel(id: string): "cancelling" | "forgotten" | null {
    const row = this.log.get(id, this.watchersSince());
    if (!row) return null;
    if (row.finishedAt === null) {
      if (row.node === this.node) this.local.cancel(id);
      else this.bus.publish("simulations", { kind: "cancel", id } satisfies SimulationNotice);
      return "cancelling";
    }
    // Finished meanwhile (or already): forget it, as one node does.
    this.log.deleteFinished(id);
    return "forgotten";
  }

  shutdown(): void {
    clearInterval(this.timer);
    for (const stop of this.unsubscribe) stop();
    for (const log of this.logs.values()) {
      if (log.flushTimer !== null) clearTimeout(log.flushTimer);
    }
    this.local.shutdown();
  }

  /** Store and bus failures are logged, never thrown into a simulation or a request's stream. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.warn("cluster simulations: database or bus failed", { error });
    }
  }

  /** The computing node's side: new events (and the final status) to the table, then a notice. */
  private append(status: SimulationStatus, events: readonly StoredEvent[], first: number): void {
    const finished = status.finishedAt !== null;
    const count = first + events.length;
    this.log.append(status, events, first, Date.now(), () => {
      this.bus.publish(
        "simulations",
        {
          kind: "events",
          id: status.id,
          events: count,
          finished,
        } satisfies SimulationNotice,
      );
    });
    // Local watchers need no round trip through the table.
    const shared = this.logs.get(status.id);
    if (shared && shared.events.length === first) {
      shared.events.push(...events);
      if (finished) shared.finished = true;
      this.wake(shared);
    }
    if (finished) {
      this.computing.delete(status.id);
      this.keepers.get(status.id)?.close();
      this.keepers.delete(status.id);
      // Its events live in the table now: the registry need not keep them in memory too.
      setTimeout(() => this.local.cancel(status.id), 0);
    }
  }

  private onNotice(notice: SimulationNotice): void {
    if (notice.kind === "cancel") {
      if (this.local.status(notice.id)?.status === "running") this.local.cancel(notice.id);
      return;
    }
    if (notice.kind === "watchers") {
      this.guard(() => this.keepAliveFor(notice.id));
      return;
    }
    const shared = this.logs.get(notice.id);
    if (!shared || shared.finished) return;
    this.guard(() => this.catchUp(shared, notice));
  }

  /** Reads the events `shared` lacks; it is finished once it holds all of a finished one's. */
  private catchUp(shared: SharedLog, notice?: { events: number; finished: boolean }): void {
    if (notice && shared.events.length >= notice.events) {
      if (notice.finished && !shared.finished) {
        shared.finished = true;
        this.wake(shared);
      }
      return;
    }
    // The row first: events written after it are announced by a notice still to come.
    const row = notice ? null : this.log.get(shared.id, this.watchersSince());
    const more = this.log.eventsFrom(shared.id, shared.events.length);
    shared.events.push(...more);
    const finished = notice
      ? notice.finished && shared.events.length >= notice.events
      : row === null || (row.finishedAt !== null && shared.events.length >= row.events);
    if (finished) shared.finished = true;
    if (more.length > 0 || finished) this.wake(shared);
  }

  private wake(shared: SharedLog): void {
    for (const wake of [...shared.wakes]) wake();
    if (shared.finished) shared.wakes.clear();
  }

  /** Writes this node's watcher count soon (once for many watchers arriving together). */
  private flushWatchers(shared: SharedLog): void {
    if (shared.flushTimer !== null) return;
    shared.flushTimer = setTimeout(() => {
      shared.flushTimer = null;
      if (shared.watchers !== shared.written) {
        this.guard(() => {
          this.log.setWatchers(shared.id, this.node, shared.watchers, Date.now());
          shared.written = shared.watchers;
          this.bus.publish("simulations", { kind: "watchers", id: shared.id });
        });
      }
      this.forgetIfIdle(shared);
    }, this.watcherFlushMs);
  }

  /** A log nobody here watches any more is dropped (memory is per node). */
  private forgetIfIdle(shared: SharedLog): void {
    if (shared.watchers > 0 || shared.flushTimer !== null || shared.written !== 0) return;
    if (this.logs.get(shared.id) === shared) this.logs.delete(shared.id);
  }

  /** On the computing node: hold a watch while any node has watchers, release it when none. */
  private keepAliveFor(id: string): void {
    if (this.local.status(id)?.status !== "running") return;
    const watched = (this.log.get(id, this.watchersSince())?.watchers ?? 0) > 0;
    const keeper = this.keepers.get(id);
    if (watched && !keeper) {
      const watch = this.local.watch(id);
      if (watch) this.keepers.set(id, watch);
    } else if (!watched && keeper) {
      keeper.close();
      this.keepers.delete(id);
    }
  }

  /** Watchers confirmed since then count: their node was alive a moment ago. */
  private watchersSince(): number {
    return Date.now() - this.lostAfterMs;
  }

  private tick(): void {
    const now = Date.now();
    if (this.computing.size > 0) this.log.heartbeat(this.node, now);
    if (this.logs.size > 0) this.log.confirmWatchers(this.node, now);
    // Watchers on a node that died stop counting: a simulation only they watched is let go.
    for (const id of [...this.keepers.keys()]) this.keepAliveFor(id);
    this.log.expire(now - this.ttlMs);
    const watched = [...this.logs.values()].filter((l) => !l.finished).map((l) => l.id);
    if (watched.length > 0) this.reapIfLost(watched);
  }

  /** Ends running simulations (all, or those of `ids`) whose node has gone silent. */
  private reapIfLost(ids?: readonly string[]): void {
    const before = Date.now() - this.lostAfterMs;
    for (const id of this.log.stale(before, ids)) this.endLost(id, before);
  }

  private endLost(id: string, before: number): void {
    const event: StoredEvent = {
      event: "error",
      data: {
        code: "node_lost",
        message: "the node computing this simulation stopped; start it again",
      },
    };
    const now = Date.now();
    // `before` 0: this node's own leftovers from before a restart, whatever their heartbeat.
    this.log.endLost(id, event, before === 0 ? now + 1 : before, now, () => {
      const row = this.log.get(id, this.watchersSince());
      this.bus.publish(
        "simulations",
        {
          kind: "events",
          id,
          events: row?.events ?? 0,
          finished: true,
        } satisfies SimulationNotice,
      );
    });
  }
}
