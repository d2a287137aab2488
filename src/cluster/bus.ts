// Messages between a cluster's nodes over PostgreSQL LISTEN/NOTIFY: a job's progress, a request to
// cancel, a simulation's new events. Publishing goes through the store's own connection, so a
// message sent inside a transaction is delivered when (and only if) it commits. Listening holds one
// extra connection per node; no node polls.
//
// NOTIFY payloads are limited to 8000 bytes: a message carries ids and small summaries, and the
// receiver reads anything larger from the tables.
import pg from "pg";
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Logger } from "../log.ts";

/** The channels in use; each is LISTENed to as `simfluence_<name>` ("auth": failed-auth blocks). */
export type BusChannel = "jobs" | "cancel" | "simulations" | "nodes" | "auth";

export type BusListener = (payload: unknown) => void;

export const MAX_PAYLOAD_BYTES = 7_900;

export interface ClusterBus {
  /** Sends `payload` (JSON, under MAX_PAYLOAD_BYTES) to every node, this one included. */
  publish(channel: BusChannel, payload: unknown): void;
  /** Calls `listener` with each payload on `channel`; returns the unsubscribe function. */
  subscribe(channel: BusChannel, listener: BusListener): () => void;
  /** Called after the listening connection was lost and re-established (messages may be lost). */
  onReconnect(listener: () => void): () => void;
  close(): Promise<void>;
}

const channelName = (channel: BusChannel) => `simfluence_${channel}`;
const CHANNELS: readonly BusChannel[] = ["jobs", "cancel", "simulations", "nodes", "auth"];

export class PostgresBus implements ClusterBus {
  private client: pg.Client | null = null;
  private readonly listeners = new Map<BusChannel, Set<BusListener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    private readonly url: string,
    private readonly db: SqlDatabase,
    private readonly logger: Logger,
  ) {}

  static async open(url: string, db: SqlDatabase, logger: Logger): Promise<PostgresBus> {
    const bus = new PostgresBus(url, db, logger);
    await bus.connect();
    return bus;
  }

  publish(channel: BusChannel, payload: unknown): void {
    const text = JSON.stringify(payload);
    if (new TextEncoder().encode(text).length > MAX_PAYLOAD_BYTES) {
      throw new Error(`bus message on ${channel} is over ${MAX_PAYLOAD_BYTES} bytes`);
    }
    this.db.prepare("SELECT pg_notify(?, ?)").get(channelName(channel), text);
  }

  subscribe(channel: BusChannel, listener: BusListener): () => void {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, set = new Set());
    set.add(listener);
    return () => set.delete(listener);
  }

  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: "simfluence bus",
    });
    client.on(
      "notification",
      (message: { channel: string; payload?: string }) =>
        this.deliver(message.channel, message.payload),
    );
    client.on("error", (error: Error) => {
      this.logger.warn("cluster bus connection lost; reconnecting", { error });
      if (this.client === client) this.client = null;
      client.end().catch(() => {});
      this.scheduleReconnect(1_000);
    });
    await client.connect();
    for (const channel of CHANNELS) await client.query(`LISTEN ${channelName(channel)}`);
    this.client = client;
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(async () => {
      this.retryTimer = null;
      try {
        await this.connect();
        this.logger.info("cluster bus reconnected");
        for (const listener of this.reconnectListeners) listener();
      } catch (error) {
        this.logger.warn("cluster bus reconnect failed", { error });
        this.scheduleReconnect(Math.min(delayMs * 2, 15_000));
      }
    }, delayMs);
  }

  private deliver(channel: string, text: string | undefined): void {
    const name = CHANNELS.find((c) => channelName(c) === channel);
    if (!name || text === undefined) return;
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return;
    }
    for (const listener of [...(this.listeners.get(name) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        this.logger.warn("cluster bus listener threw", { channel: name, error });
      }
    }
  }
}
