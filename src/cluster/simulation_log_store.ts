// A cluster's simulations in PostgreSQL: one row per simulation (its node, status and counts) and
// one row per event, so that a simulation computed on one node is listed, watched and replayed on
// any other (src/cluster/simulations.ts). Rows are deleted 10 minutes after the simulation finished,
// as one node's registry forgets it from memory. PostgreSQL only: on SQLite, one process holds its
// simulations in memory and this module has no tables.
import { defineStoreModule } from "../store/store.ts";
import type { SqlDatabase, SqlValue } from "../store/sql/database.ts";
import type {
  SimulationState,
  SimulationStatus,
  StoredEvent,
} from "../simfluence/simulation_registry.ts";

export interface SimulationRow {
  id: string;
  simulator: string;
  node: string;
  status: SimulationState;
  events: number;
  steps: number;
  totalSteps: number;
  watchers: number;
  createdAt: number;
  finishedAt: number | null;
  heartbeatAt: number;
}

// An INSERT of this many events at most (4 parameters each, under PostgreSQL's 65,535): a chunk of
// a simulation (at most 4,096 steps) fits in one.
const EVENTS_PER_INSERT = 5_000;

// Watchers count while their node keeps confirming them (a dead node's watchers stop counting);
// the one parameter is the time before which a confirmation is too old.
const COLUMNS = `id, simulator, node, status, events, steps, total_steps, created_at, finished_at,
  heartbeat_at, (SELECT COALESCE(SUM(w.watchers), 0) FROM cluster_simulation_watchers w
    WHERE w.simulation_id = s.id AND w.seen_at >= ?) AS watchers`;

function rowOf(r: Record<string, unknown>): SimulationRow {
  return {
    id: r.id as string,
    simulator: r.simulator as string,
    node: r.node as string,
    status: r.status as SimulationState,
    events: Number(r.events),
    steps: Number(r.steps),
    totalSteps: Number(r.total_steps),
    watchers: Number(r.watchers),
    createdAt: Number(r.created_at),
    finishedAt: r.finished_at === null ? null : Number(r.finished_at),
    heartbeatAt: Number(r.heartbeat_at),
  };
}

/** The shape GET /v1/simulations/:id answers, as one node's registry describes it. */
export function statusOf(row: SimulationRow): SimulationStatus {
  return {
    id: row.id,
    simulator: row.simulator,
    status: row.status,
    events: row.events,
    steps: row.steps,
    totalSteps: row.totalSteps,
    watchers: row.watchers,
    createdAt: new Date(row.createdAt).toISOString(),
    finishedAt: row.finishedAt === null ? null : new Date(row.finishedAt).toISOString(),
  };
}

export class SimulationLogStore {
  constructor(private readonly db: SqlDatabase) {}

  /** Runs `fn` in a transaction of its own (no cluster write lock: one node writes a simulation). */
  private atomically<T>(fn: () => T): T {
    this.db.exec("BEGIN");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (e) {
      this.db.exec("ROLLBACK");
      throw e;
    }
  }

  create(status: SimulationStatus, node: string, now: number): void {
    this.db.prepare(
      `INSERT INTO cluster_simulations (id, simulator, node, status, events, steps, total_steps,
         created_at, finished_at, heartbeat_at) VALUES (?, ?, ?, ?, 0, 0, ?, ?, NULL, ?)`,
    ).run(
      status.id,
      status.simulator,
      node,
      status.status,
      status.totalSteps,
      Date.parse(status.createdAt),
      now,
    );
  }

  /**
   * Appends `events` (the first is event `first`) and the simulation's new counts and status,
   * atomically, then runs `then` (a bus notice: sent once the rows are visible). One statement,
   * one round trip, for a batch of up to EVENTS_PER_INSERT events (a chunk of a simulation);
   * larger batches take a transaction.
   */
  append(
    status: SimulationStatus,
    events: readonly StoredEvent[],
    first: number,
    now: number,
    then: () => void,
  ): void {
    const update = `UPDATE cluster_simulations SET status = ?, events = ?, steps = ?,
      finished_at = ?, heartbeat_at = ? WHERE id = ?`;
    const updateParams: SqlValue[] = [
      status.status,
      first + events.length,
      status.steps,
      status.finishedAt === null ? null : Date.parse(status.finishedAt),
      now,
      status.id,
    ];
    const insert = (start: number, part: readonly StoredEvent[]) => {
      const params: SqlValue[] = [];
      part.forEach((e, i) =>
        params.push(status.id, first + start + i, e.event, JSON.stringify(e.data))
      );
      const sql = `INSERT INTO cluster_simulation_events (simulation_id, seq, event, data) VALUES ${
        part.map(() => "(?, ?, ?, ?)").join(", ")
      }`;
      return { sql, params };
    };
    if (events.length <= EVENTS_PER_INSERT) {
      if (events.length === 0) {
        this.db.prepare(update).run(...updateParams);
      } else {
        const { sql, params } = insert(0, events);
        this.db.prepare(`WITH appended AS (${sql}) ${update}`).run(...params, ...updateParams);
      }
    } else {
      this.atomically(() => {
        for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
          const { sql, params } = insert(start, events.slice(start, start + EVENTS_PER_INSERT));
          this.db.prepare(sql).run(...params);
        }
        this.db.prepare(update).run(...updateParams);
      });
    }
    then();
  }

  /** A simulation; its watchers are those confirmed since `watchersSince`. */
  get(id: string, watchersSince: number): SimulationRow | null {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM cluster_simulations s WHERE id = ?`)
      .get(watchersSince, id);
    return r ? rowOf(r) : null;
  }

  /** Newest first; watchers as in `get`. */
  list(
    page: { limit: number; offset: number },
    watchersSince: number,
  ): { rows: SimulationRow[]; total: number } {
    const rows = this.db.prepare(
      `SELECT ${COLUMNS} FROM cluster_simulations s ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
    ).all(watchersSince, page.limit, page.offset).map(rowOf);
    const total = Number(this.db.prepare("SELECT COUNT(*) AS n FROM cluster_simulations").get()!.n);
    return { rows, total };
  }

  /** Events `from` onwards, in order. */
  eventsFrom(id: string, from: number): StoredEvent[] {
    return this.db.prepare(
      `SELECT event, data FROM cluster_simulation_events WHERE simulation_id = ? AND seq >= ?
         ORDER BY seq`,
    ).all(id, from).map((r) =>
      ({
        event: r.event as StoredEvent["event"],
        data: JSON.parse(r.data as string),
      }) as StoredEvent
    );
  }

  /** This node's watchers of a simulation now. */
  setWatchers(id: string, node: string, watchers: number, now: number): void {
    if (watchers === 0) {
      this.db.prepare(
        "DELETE FROM cluster_simulation_watchers WHERE simulation_id = ? AND node = ?",
      ).run(id, node);
      return;
    }
    // The simulation may be gone (forgotten, expired): then there is nothing to count.
    this.db.prepare(
      `INSERT INTO cluster_simulation_watchers (simulation_id, node, watchers, seen_at)
         SELECT id, ?, ?, ? FROM cluster_simulations WHERE id = ?
         ON CONFLICT (simulation_id, node) DO UPDATE SET watchers = EXCLUDED.watchers,
           seen_at = EXCLUDED.seen_at`,
    ).run(node, watchers, now, id);
  }

  /** This node's watchers are still there (a node that died stops confirming its own). */
  confirmWatchers(node: string, now: number): void {
    this.db.prepare("UPDATE cluster_simulation_watchers SET seen_at = ? WHERE node = ?")
      .run(now, node);
  }

  /** Marks this node's running simulations alive. */
  heartbeat(node: string, now: number): void {
    this.db.prepare(
      "UPDATE cluster_simulations SET heartbeat_at = ? WHERE node = ? AND finished_at IS NULL",
    ).run(now, node);
  }

  /** Running simulations of `node` (a node that restarted forgets the ones it was computing). */
  runningOn(node: string): string[] {
    return this.db.prepare(
      "SELECT id FROM cluster_simulations WHERE node = ? AND finished_at IS NULL",
    ).all(node).map((r) => r.id as string);
  }

  /** Running simulations whose node has not written since `before` (it died, or lost its link). */
  stale(before: number, ids?: readonly string[]): string[] {
    const rows = this.db.prepare(
      "SELECT id FROM cluster_simulations WHERE finished_at IS NULL AND heartbeat_at < ?",
    ).all(before).map((r) => r.id as string);
    return ids ? rows.filter((id) => ids.includes(id)) : rows;
  }

  /**
   * Ends a running simulation whose node is gone with `event`, unless it finished or its node
   * wrote since `before` meanwhile (one node wins when several try); true if this call ended it.
   */
  endLost(id: string, event: StoredEvent, before: number, now: number, then: () => void): boolean {
    return this.atomically(() => {
      const ended = this.db.prepare(
        `UPDATE cluster_simulations SET status = 'failed', finished_at = ?, events = events + 1
           WHERE id = ? AND finished_at IS NULL AND heartbeat_at < ? RETURNING events`,
      ).get(now, id, before);
      if (!ended) return false;
      this.db.prepare(
        "INSERT INTO cluster_simulation_events (simulation_id, seq, event, data) VALUES (?, ?, ?, ?)",
      ).run(id, Number(ended.events) - 1, event.event, JSON.stringify(event.data));
      then();
      return true;
    });
  }

  /** Forgets a finished simulation now; false if unknown or still running. */
  deleteFinished(id: string): boolean {
    const { changes } = this.db.prepare(
      "DELETE FROM cluster_simulations WHERE id = ? AND finished_at IS NOT NULL",
    ).run(id);
    return Number(changes) > 0;
  }

  /** Forgets simulations that finished before `before` (their events go with them). */
  expire(before: number): number {
    const { changes } = this.db.prepare(
      "DELETE FROM cluster_simulations WHERE finished_at IS NOT NULL AND finished_at < ?",
    ).run(before);
    return Number(changes);
  }
}

export const CLUSTER_SIMULATIONS = defineStoreModule({
  name: "cluster_simulations",
  // SQLite: a single process keeps its simulations in memory (src/simfluence/simulation_registry).
  migrations: [],
  postgresMigrations: [
    {
      name: "cluster_simulations",
      up(db) {
        db.exec(`
          CREATE TABLE cluster_simulations (
            id TEXT PRIMARY KEY,
            simulator TEXT NOT NULL,
            node TEXT NOT NULL,
            status TEXT NOT NULL
              CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
            events INTEGER NOT NULL,
            steps INTEGER NOT NULL,
            total_steps INTEGER NOT NULL,
            created_at BIGINT NOT NULL,
            finished_at BIGINT,
            heartbeat_at BIGINT NOT NULL
          );
          CREATE INDEX cluster_simulations_created ON cluster_simulations (created_at DESC);
          CREATE INDEX cluster_simulations_finished ON cluster_simulations (finished_at);
          CREATE TABLE cluster_simulation_events (
            simulation_id TEXT NOT NULL REFERENCES cluster_simulations (id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            event TEXT NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (simulation_id, seq)
          );
          CREATE TABLE cluster_simulation_watchers (
            simulation_id TEXT NOT NULL REFERENCES cluster_simulations (id) ON DELETE CASCADE,
            node TEXT NOT NULL,
            watchers INTEGER NOT NULL,
            PRIMARY KEY (simulation_id, node)
          );
        `);
      },
    },
    {
      name: "cluster_simulation_watchers_seen",
      up(db) {
        db.exec(`
          ALTER TABLE cluster_simulation_watchers
            ADD COLUMN seen_at BIGINT NOT NULL DEFAULT 0;
        `);
      },
    },
  ],
  open: ({ db }) => new SimulationLogStore(db),
});
