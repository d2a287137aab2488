// Simulations started with POST /v1/simulations and watched with GET …/events, for browser
// EventSource clients (which can only GET). Each simulation's events are kept after it finishes,
// for `ttlMs`, so a client that connects late or reconnects gets the whole stream again.
import { describeError, DomainError } from "../errors.ts";
import type { GpuRuntime } from "../gpu/runtime.ts";
import { type SimulationEvent, simulationEvents, type SimulationPlan } from "./simulation.ts";

export type StoredEvent = SimulationEvent | { event: "error"; data: unknown };
type Listener = (events: readonly StoredEvent[], finished: boolean) => void;

interface Entry {
  id: string;
  simulator: string;
  status: "running" | "done" | "failed";
  events: StoredEvent[];
  listeners: Set<Listener>;
  createdAt: number;
  finishedAt: number | null;
  controller: AbortController;
}

export interface SimulationRegistryOptions {
  ttlMs?: number;
  /** Simulations kept (running or replayable); the oldest finished ones make room. */
  maxEntries?: number;
  /** Simulations computing at once; past it a new one is a 429 (each holds its events). */
  maxRunning?: number;
  /** Where events come from (tests substitute a controllable stream). */
  events?: typeof simulationEvents;
}

export class SimulationRegistry {
  private entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly maxRunning: number;
  private readonly events: typeof simulationEvents;

  constructor(options: SimulationRegistryOptions = {}) {
    this.events = options.events ?? simulationEvents;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = options.maxEntries ?? 64;
    this.maxRunning = Math.min(options.maxRunning ?? 8, this.maxEntries);
  }

  start(rt: GpuRuntime | null, plan: SimulationPlan): { id: string } {
    this.evict();
    const running = [...this.entries.values()].filter((e) => e.status === "running").length;
    if (running >= this.maxRunning || this.entries.size >= this.maxEntries) {
      throw new DomainError(
        "rate_limited",
        "too_many_simulations",
        `${running} simulations are still running (at most ${this.maxRunning} at once); ` +
          "retry when one has finished",
        { running, maxRunning: this.maxRunning },
      );
    }
    const entry: Entry = {
      id: crypto.randomUUID(),
      simulator: plan.sim.record.id,
      status: "running",
      events: [],
      listeners: new Set(),
      createdAt: Date.now(),
      finishedAt: null,
      controller: new AbortController(),
    };
    this.entries.set(entry.id, entry);
    void this.run(entry, rt, plan);
    return { id: entry.id };
  }

  private publish(entry: Entry, events: readonly StoredEvent[], finished = false): void {
    entry.events.push(...events);
    for (const listener of entry.listeners) listener(events, finished);
  }

  private async run(entry: Entry, rt: GpuRuntime | null, plan: SimulationPlan): Promise<void> {
    try {
      for await (const events of this.events(rt, plan, entry.controller.signal)) {
        this.publish(entry, events);
      }
      entry.status = "done";
    } catch (e) {
      entry.status = "failed";
      const known = describeError(e);
      this.publish(entry, [{
        event: "error",
        data: {
          code: known?.code ?? "simulation_failed",
          message: known?.message ?? (e instanceof Error ? e.message : String(e)),
        },
      }]);
    } finally {
      entry.finishedAt = Date.now();
      this.publish(entry, [], true);
      entry.listeners.clear();
    }
  }

  status(id: string) {
    const entry = this.entries.get(id);
    if (!entry) return null;
    return {
      id,
      simulator: entry.simulator,
      status: entry.status,
      events: entry.events.length,
      createdAt: new Date(entry.createdAt).toISOString(),
      finishedAt: entry.finishedAt === null ? null : new Date(entry.finishedAt).toISOString(),
    };
  }

  /**
   * Replays the events so far, then delivers new ones; `finished` is true with the last batch.
   * Returns the unsubscribe function, or null for an unknown id.
   */
  subscribe(id: string, listener: Listener): (() => void) | null {
    const entry = this.entries.get(id);
    if (!entry) return null;
    const finished = entry.status !== "running";
    listener([...entry.events], finished);
    if (finished) return () => {};
    entry.listeners.add(listener);
    return () => entry.listeners.delete(listener);
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
    for (const entry of this.entries.values()) entry.controller.abort(new Error("shutting down"));
  }
}
