// Failed authentications counted by the whole cluster (PostgreSQL mode), so a client spreading its
// token guesses over N nodes is refused after the same number of failures as on one node. Each
// failure is an atomic upsert of the address's row (a fixed window, as src/http/auth_failures.ts);
// the node whose upsert reaches the limit tells every node on the bus channel "auth", and each node
// keeps the blocked addresses in memory. So checking a request costs no query: only a failure does.
// Windows are timed by the database's clock, so nodes with skewed clocks agree.
import type { ClusterBus } from "./bus.ts";
import type { FailedAuthCounter, FailedAuthLimiterOptions } from "../http/auth_failures.ts";
import type { Logger } from "../log.ts";
import type { SqlDatabase } from "../store/sql/database.ts";
import { defineStoreModule } from "../store/store.ts";

const DB_NOW_MS = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/** A bus notice: `address` is refused for `forMs` more. */
interface BlockNotice {
  address: string;
  forMs: number;
}

export const CLUSTER_AUTH_FAILURES = defineStoreModule({
  name: "cluster_auth_failures",
  // SQLite: one process counts in memory (src/http/auth_failures.ts).
  migrations: [],
  postgresMigrations: [
    {
      name: "cluster_auth_failures",
      up(db) {
        db.exec(`
          CREATE TABLE cluster_auth_failures (
            address TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            window_ends BIGINT NOT NULL
          );
          CREATE INDEX cluster_auth_failures_ends ON cluster_auth_failures (window_ends);
        `);
      },
    },
  ],
  open: ({ db }) => db,
});

export interface SharedFailedAuthOptions extends Omit<FailedAuthLimiterOptions, "now"> {
  db: SqlDatabase;
  bus: ClusterBus;
  logger: Logger;
}

export class SharedFailedAuthLimiter implements FailedAuthCounter {
  /** Blocked addresses and when (this node's clock) they may try again, oldest first. */
  private readonly blocked = new Map<string, number>();
  private readonly db: SqlDatabase;
  private readonly bus: ClusterBus;
  private readonly logger: Logger;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private lastCleanup = 0;
  private readonly unsubscribe: (() => void)[];

  constructor(options: SharedFailedAuthOptions) {
    this.db = options.db;
    this.bus = options.bus;
    this.logger = options.logger;
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.maxAddresses = options.maxAddresses ?? 10_000;
    this.unsubscribe = [
      this.bus.subscribe("auth", (payload) => {
        const notice = payload as BlockNotice;
        if (typeof notice?.address === "string" && notice.forMs > 0) {
          this.block(notice.address, notice.forMs);
        }
      }),
      // Blocks announced while this node's bus was away are read back from the table.
      this.bus.onReconnect(() => this.loadBlocked()),
    ];
    this.loadBlocked();
  }

  blockedForMs(address: string): number {
    const until = this.blocked.get(address);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.blocked.delete(address);
    return 0;
  }

  recordFailure(address: string): void {
    try {
      const row = this.db.prepare(
        `INSERT INTO cluster_auth_failures AS f (address, failures, window_ends)
           VALUES (?, 1, ${DB_NOW_MS} + ?)
         ON CONFLICT (address) DO UPDATE SET
           failures = CASE WHEN f.window_ends <= ${DB_NOW_MS} THEN 1 ELSE f.failures + 1 END,
           window_ends = CASE WHEN f.window_ends <= ${DB_NOW_MS} THEN EXCLUDED.window_ends
             ELSE f.window_ends END
         RETURNING failures, window_ends - ${DB_NOW_MS} AS left_ms`,
      ).get(address, this.windowMs)!;
      const failures = Number(row.failures);
      const leftMs = Number(row.left_ms);
      // Exactly at the limit: one node announces it (later failures are refused before counting).
      if (failures >= this.maxFailures && leftMs > 0) {
        this.block(address, leftMs);
        if (failures === this.maxFailures) {
          this.bus.publish("auth", { address, forMs: leftMs } satisfies BlockNotice);
        }
      }
      this.cleanUp();
    } catch (error) {
      // The database is away: fall back to refusing nothing rather than failing every request.
      this.logger.warn("failed-auth count not stored", { error });
    }
  }

  close(): void {
    for (const stop of this.unsubscribe) stop();
  }

  private block(address: string, forMs: number): void {
    this.blocked.delete(address);
    this.blocked.set(address, Date.now() + forMs);
    // Past the cap, the blocks set longest ago go first.
    for (const old of this.blocked.keys()) {
      if (this.blocked.size <= this.maxAddresses) break;
      this.blocked.delete(old);
    }
  }

  private loadBlocked(): void {
    try {
      const rows = this.db.prepare(
        `SELECT address, window_ends - ${DB_NOW_MS} AS left_ms FROM cluster_auth_failures
           WHERE failures >= ? AND window_ends > ${DB_NOW_MS}`,
      ).all(this.maxFailures);
      for (const r of rows) this.block(r.address as string, Number(r.left_ms));
    } catch (error) {
      this.logger.warn("blocked addresses not read", { error });
    }
  }

  /** Rows whose window ended are deleted, at most once a window per node. */
  private cleanUp(): void {
    const now = Date.now();
    if (now - this.lastCleanup < this.windowMs) return;
    this.lastCleanup = now;
    this.db.prepare(`DELETE FROM cluster_auth_failures WHERE window_ends <= ${DB_NOW_MS}`).run();
  }
}
