// Simulations started with POST /v1/simulations and watched with GET …/events, for browser
// EventSource clients (which can only GET). Each simulation's events form a log that every watcher
// reads with its own cursor (event i has SSE id i); the log is kept after the simulation finishes,
// for `ttlMs`, so a client that connects late or reconnects gets the stream again. A running
// simulation nobody watches for `unwatchedGraceMs` (none connected, or all left) is cancelled:
// nobody could read what it computes.
import { describeError, DomainError } from "../errors.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type SimulationEvent, simulationEvents, type SimulationPlan } from "./simulation.ts";

export type StoredEvent =
  | SimulationEvent
  | { event: "error"; data: unknown }
  | { event: "cancelled"; data: { reason: CancelReason } };

export type SimulationState = "running" | "done" | "failed" | "cancelled";
/** `unwatched`: no watcher for the grace period; `deleted`: DELETE /v1/simulations/:id. */
export type CancelReason = "unwatched" | "deleted" | "shutdown";

interface Entry {
  id: string;
  simulator: string;
  status: SimulationState;
  events: StoredEvent[];
  totalSteps: number;
  steps: number;
  /** Wake-ups of the watchers' pumps; called after every change. */
  changeListeners: Set<() => void>;
  watchers: number;
  unwatchedTimer: ReturnType<typeof setTimeout> | null;
  createdAt: number;
  finishedAt: number | null;
  controller: AbortController;
}

/** One watcher's view of a simulation's log (see src/http/sse_pump.ts's EventLog). */
export interface SimulationWatch {
  readonly length: number;
  readonly finished: boolean;
  at(index: number): StoredEvent;
  onChange(wake: () => void): () => void;
  /** The watcher left; the last one to leave a running simulation starts its grace period. */
  close(): void;
}

export interface SimulationRegistryOptions {
  ttlMs?: number;
  /** Simulations kept (running or replayable); the oldest finished ones make room. */
  maxEntries?: number;
  /** Simulations computing at once; past it a new one is a 429 (each holds its events). */
  maxRunning?: number;
  /** How long a running simulation may have no watcher before it is cancelled; 10 s. */
  unwatchedGraceMs?: number;
  /** Where events come from (tests substitute a controllable stream). */
  events?: typeof simulationEvents;
  /** Told of every start and every change, in order (a cluster copies the log to PostgreSQL). */
  observer?: SimulationObserver;
}

export type SimulationStatus = ReturnType<typeof describe>;

/**
 * Sees a registry's simulations change: `started` before any event, then `published` with each
 * batch of new events (`first` is the first one's index) and once more, with none, when finished.
 */
export interface SimulationObserver {
  started(status: SimulationStatus): void;
  published(status: SimulationStatus, events: readonly StoredEvent[], first: number): void;
}

/** What the simulation routes use: this registry on one node, src/cluster/simulations.ts on many. */
export interface Simulations {
  start(rt: GpuRuntime | null, plan: SimulationPlan): { id: string };
  status(id: string): SimulationStatus | null;
  list(page: { limit: number; offset: number }): { simulations: SimulationStatus[]; total: number };
  watch(id: string): SimulationWatch | null;
  cancel(id: string): "cancelling" | "forgotten" | null;
  shutdown(): void;
}

export class SimulationRegistry implements Simulations {
  private entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxRunning: number;
  private readonly unwatchedGraceMs: number;
  private readonly events: typeof simulationEvents;
  private readonly observer: SimulationObserver | null;

  constructor(options: SimulationRegistryOptions = {}) {
    this.events = options.events ?? simulationEvents;
    this.observer = options.observer ?? null;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 64;
    this.maxRunning = Math.min(options.maxRunning ?? 8, this.maxEntries);
    this.unwatchedGraceMs = options.unwatchedGraceMs ?? 10_000;
  }

  start(rt: GpuRuntime | null, plan: SimulationPlan): { id: string } {
    this.evict();
    const running = [...this.entries.values()].filter((e) => e.status === "running");
    if (running.length >= this.maxRunning || this.entries.size >= this.maxEntries) {
      const retryAfterSeconds = this.soonestFinishSeconds(running);
      throw new DomainError(
        "rate_limited",
        "too_many_simulations",
        `${running.length} simulations are still running (at most ${this.maxRunning} at once); ` +
          `retry in ${retryAfterSeconds} s`,
        { running: running.length, maxRunning: this.maxRunning, retryAfterSeconds },
      );
    }
    const entry: Entry = {
      id: crypto.randomUUID(),
      simulator: plan.sim.record.id,
      status: "running",
      events: [],
      totalSteps: plan.batches?.length ?? 0,
      steps: 0,
      changeListeners: new Set(),
      watchers: 0,
      unwatchedTimer: null,
      createdAt: Date.now(),
      finishedAt: null,
      controller: new AbortController(),
    };
    this.entries.set(entry.id, entry);
    this.observer?.started(describe(entry));
    this.armUnwatchedTimer(entry);
    void this.run(entry, rt, plan);
    return { id: entry.id };
  }

  /**
   * When the first running simulation should finish, from its pace so far: 1 to 10 s, and 1 s
   * while none has done a tenth of its steps (an early pace overestimates).
   */
  private soonestFinishSeconds(running: Entry[]): number {
    const now = Date.now();
    let soonest = Infinity;
    for (const entry of running) {
      // The first chunks are small (ramp-up) and pay the set-up: too early to tell a pace.
      if (entry.totalSteps === 0 || entry.steps < entry.totalSteps / 10) continue;
      const perStep = (now - entry.createdAt) / entry.steps;
      soonest = Math.min(soonest, (entry.totalSteps - entry.steps) * perStep);
    }
    return Number.isFinite(soonest) ? Math.min(10, Math.max(1, Math.ceil(soonest / 1000))) : 1;
  }

  private publish(entry: Entry, events: readonly StoredEvent[]): void {
    const first = entry.events.length;
    for (const e of events) {
      entry.events.push(e);
      if (e.event === "step") entry.steps++;
    }
    this.observer?.published(describe(entry), events, first);
    for (const wake of [...entry.changeListeners]) wake();
  }

  private async run(entry: Entry, rt: GpuRuntime | null, plan: SimulationPlan): Promise<void> {
    try {
      for await (const events of this.events(rt, plan, entry.controller.signal)) {
        this.publish(entry, events);
      }
      entry.status = "done";
    } catch (e) {
      const reason = entry.controller.signal.reason;
      if (entry.controller.signal.aborted && isCancelReason(reason)) {
        entry.status = "cancelled";
        this.publish(entry, [{ event: "cancelled", data: { reason } }]);
      } else {
        entry.status = "failed";
        const known = describeError(e);
        this.publish(entry, [{
          event: "error",
          data: {
            code: known?.code ?? "simulation_failed",
            message: known?.message ?? (e instanceof Error ? e.message : String(e)),
          },
        }]);
      }
    } finally {
      if (entry.unwatchedTimer !== null) clearTimeout(entry.unwatchedTimer);
      entry.unwatchedTimer = null;
      entry.finishedAt = Date.now();
      // Watchers see `finished` on this last wake-up and end their streams.
      this.publish(entry, []);
      entry.changeListeners.clear();
    }
  }

  status(id: string) {
    const entry = this.entries.get(id);
    return entry ? describe(entry) : null;
  }

  /** A page of the simulations kept (running or replayable), newest first. */
  list(page: { limit: number; offset: number }) {
    this.evict();
    const all = [...this.entries.values()].reverse();
    return {
      simulations: all.slice(page.offset, page.offset + page.limit).map(describe),
      total: all.length,
    };
  }

  /**
   * A watcher's view of the log, or null for an unknown id. While it is open the simulation is not
   * cancelled for want of watchers.
   */
  watch(id: string): SimulationWatch | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    entry.watchers++;
    if (entry.unwatchedTimer !== null) clearTimeout(entry.unwatchedTimer);
    entry.unwatchedTimer = null;
    let closed = false;
    return {
      get length() {
        return entry.events.length;
      },
      get finished() {
        return entry.finishedAt !== null;
      },
      at: (index) => entry.events[index],
      onChange: (wake) => {
        entry.changeListeners.add(wake);
        return () => entry.changeListeners.delete(wake);
      },
      close: () => {
        if (closed) return;
        closed = true;
        entry.watchers--;
        this.armUnwatchedTimer(entry);
      },
    };
  }

  private armUnwatchedTimer(entry: Entry): void {
    if (entry.status !== "running" || entry.watchers > 0 || entry.unwatchedTimer !== null) return;
    entry.unwatchedTimer = setTimeout(() => {
      entry.unwatchedTimer = null;
      if (entry.watchers === 0) entry.controller.abort("unwatched" satisfies CancelReason);
    }, this.unwatchedGraceMs);
  }

  /**
   * DELETE: a running simulation is cancelled (its events so far stay replayable, ending with a
   * `cancelled` event) → "cancelling"; a finished one is forgotten → "forgotten"; null if unknown.
   */
  cancel(id: string): "cancelling" | "forgotten" | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    if (entry.status === "running") {
      entry.controller.abort("deleted" satisfies CancelReason);
      return "cancelling";
    }
    this.entries.delete(id);
    return "forgotten";
  }

  private evict(): void {
    const now = Date.now();
    for (const [id, entry] of this.entries) {
      if (entry.finishedAt !== null && now - entry.finishedAt > this.ttlMs) this.entries.delete(id);
    }
    // Past the cap, the oldest finished simulations go first.
    for (const [id, entry] of this.entries) {
      if (this.entries.size < this.maxEntries) break;
      if (entry.finishedAt !== null) this.entries.delete(id);
    }
  }

  /** Stops every running simulation (service shutdown). */
  shutdown(): void {
    for (const entry of this.entries.values()) {
      entry.controller.abort("shutdown" satisfies CancelReason);
    }
  }
}

function isCancelReason(reason: unknown): reason is CancelReason {
  return reason === "unwatched" || reason === "deleted" || reason === "shutdown";
}

function describe(entry: Entry) {
  return {
    id: entry.id,
    simulator: entry.simulator,
    status: entry.status,
    events: entry.events.length,
    steps: entry.steps,
    totalSteps: entry.totalSteps,
    watchers: entry.watchers,
    createdAt: new Date(entry.createdAt).toISOString(),
    finishedAt: entry.finishedAt === null ? null : new Date(entry.finishedAt).toISOString(),
  };
}
