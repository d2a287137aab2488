// The cluster's nodes table (PostgreSQL only; single-process mode has no such table): each node
// upserts a row every few seconds with its role, GPU adapter and the job it runs. Times are the
// database server's clock, so hosts with skewed clocks still agree on which node is stale.
import type { Migration } from "../store/migrations.ts";
import type { SqlDatabase } from "../store/sql/database.ts";
import { defineStoreModule } from "../store/store.ts";

export interface NodeAdapter {
  vendor: string;
  device: string;
  description: string;
  fallback: boolean;
}

export interface NodeInfo {
  id: string;
  role: "api" | "worker" | "all";
  /** The node's WebGPU adapter; null when it has none (it takes no GPU work). */
  adapter: NodeAdapter | null;
  startedAt: string;
  heartbeatAt: string;
  /** The job the node is running, or null. */
  job: string | null;
  /** Heard from within the staleness window. */
  alive: boolean;
}

interface NodeRow {
  id: string;
  role: NodeInfo["role"];
  adapter: string | null;
  started_at: number | string;
  heartbeat_at: number | string;
  job: string | null;
  alive: boolean | number;
}

/** The server's clock in epoch milliseconds. */
export const SERVER_NOW_MS = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

const POSTGRES_MIGRATIONS: Migration[] = [{
  name: "create nodes",
  up: (db) =>
    db.exec(`CREATE TABLE nodes (
      id TEXT PRIMARY KEY,
      role TEXT NOT NULL,
      adapter TEXT,
      started_at BIGINT NOT NULL,
      heartbeat_at BIGINT NOT NULL,
      job TEXT
    )`),
}];

export class NodesTable {
  constructor(private readonly db: SqlDatabase) {}

  /** Joins (or rejoins, under the same id) as a fresh start. */
  join(node: { id: string; role: NodeInfo["role"]; adapter: NodeAdapter | null }): void {
    this.db.prepare(
      `INSERT INTO nodes (id, role, adapter, started_at, heartbeat_at, job)
       VALUES (?, ?, ?, ${SERVER_NOW_MS}, ${SERVER_NOW_MS}, NULL)
       ON CONFLICT (id) DO UPDATE SET role = EXCLUDED.role, adapter = EXCLUDED.adapter,
         started_at = EXCLUDED.started_at, heartbeat_at = EXCLUDED.heartbeat_at, job = NULL`,
    ).run(node.id, node.role, node.adapter ? JSON.stringify(node.adapter) : null);
  }

  /** This node is alive and runs `job` (or nothing). */
  heartbeat(id: string, job: string | null): void {
    this.db.prepare(`UPDATE nodes SET heartbeat_at = ${SERVER_NOW_MS}, job = ? WHERE id = ?`)
      .run(job, id);
  }

  /** Every node that has ever joined, newest heartbeat first; `alive` within `staleMs`. */
  list(staleMs: number): NodeInfo[] {
    const rows = this.db.prepare(
      `SELECT id, role, adapter, started_at, heartbeat_at, job,
         heartbeat_at > ${SERVER_NOW_MS} - ? AS alive
       FROM nodes ORDER BY heartbeat_at DESC, id`,
    ).all(staleMs) as unknown as NodeRow[];
    return rows.map((row) => ({
      id: row.id,
      role: row.role,
      adapter: row.adapter === null ? null : JSON.parse(row.adapter) as NodeAdapter,
      startedAt: new Date(Number(row.started_at)).toISOString(),
      heartbeatAt: new Date(Number(row.heartbeat_at)).toISOString(),
      job: row.job,
      alive: Boolean(row.alive),
    }));
  }
}

/** Registered only on PostgreSQL (src/store/open.ts); SQLite has no migrations for it. */
export const NODES = defineStoreModule<NodesTable>({
  name: "nodes",
  migrations: [],
  postgresMigrations: POSTGRES_MIGRATIONS,
  open: ({ db }) => new NodesTable(db),
});
