// SqlDatabase over PostgreSQL, synchronous like node:sqlite so that every store module (and its
// synchronous transactions) runs unchanged on both. A worker thread holds the connection; each
// call posts a request and blocks in Atomics.wait until the answer is in a shared buffer. The
// node's event loop waits for the round trip (about 0.5 ms on one host), which keeps a transaction
// on this one connection free of interleaving, exactly as with SQLite.
import {
  HEADER_BYTES,
  LENGTH,
  MORE,
  STATE,
  type WorkerAnswer,
  type WorkerRequest,
} from "./postgres_protocol.ts";
import { numberPlaceholders } from "./placeholders.ts";
import type { SqlDatabase, SqlRow, SqlRunResult, SqlStatement, SqlValue } from "./database.ts";

/** A PostgreSQL error, with its SQLSTATE code (e.g. 23505 for a unique violation). */
export class PostgresError extends Error {
  override name = "PostgresError";
  constructor(message: string, readonly code?: string, readonly detail?: string) {
    super(message);
  }
}

export interface PostgresDatabaseOptions {
  url: string;
  /** Longest a statement may run on the server (default 60 s). */
  statementTimeoutMs?: number;
  /** Longest a call waits for the worker before giving up on the connection (default 90 s). */
  callTimeoutMs?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** Shared buffer size; larger answers arrive in several chunks (default 4 MiB). */
  bufferBytes?: number;
}

/** How long closing waits for the server to end the session before dropping the connection. */
const CLOSE_TIMEOUT_MS = 2_000;

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = "postgres" as const;
  private readonly worker: Worker;
  private readonly buffer: SharedArrayBuffer;
  private readonly control: Int32Array;
  private readonly callTimeoutMs: number;
  private readonly statements = new Map<string, string>();
  private closed = false;

  private constructor(options: PostgresDatabaseOptions) {
    this.callTimeoutMs = options.callTimeoutMs ?? 90_000;
    this.buffer = new SharedArrayBuffer(HEADER_BYTES + (options.bufferBytes ?? 4 << 20));
    this.control = new Int32Array(this.buffer, 0, 4);
    this.worker = new Worker(new URL("./postgres_worker.ts", import.meta.url), { type: "module" });
  }

  /**
   * Starts the worker and connects. Asynchronous, unlike every later call: the worker's module
   * loads with the help of this thread's event loop, which a blocked wait would starve.
   */
  static async connect(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
    const db = new PostgresDatabase(options);
    let failed: string | null = null;
    db.worker.onerror = (event) => {
      event.preventDefault();
      failed = event.message;
    };
    Atomics.store(db.control, STATE, 0);
    db.worker.postMessage({ request: { op: "hello" }, buffer: db.buffer });
    const waited = Atomics.waitAsync(db.control, STATE, 0, 30_000);
    const outcome = waited.async ? await waited.value : waited.value;
    if (outcome === "timed-out" || failed) {
      db.worker.terminate();
      throw new PostgresError(`the PostgreSQL worker did not start: ${failed ?? "timed out"}`);
    }
    try {
      db.call({
        op: "open",
        url: options.url,
        statementTimeoutMs: options.statementTimeoutMs ?? 60_000,
        applicationName: options.applicationName ?? "simfluence",
      });
    } catch (error) {
      db.worker.terminate();
      throw error;
    }
    return db;
  }

  exec(sql: string): void {
    this.call({ op: "exec", sql });
  }

  prepare(sql: string): SqlStatement {
    let text = this.statements.get(sql);
    if (text === undefined) {
      text = numberPlaceholders(sql);
      this.statements.set(sql, text);
    }
    const query = (params: SqlValue[]) =>
      this.call({ op: "query", sql: text, params: params.map(toParameter) });
    return {
      get: (...params: SqlValue[]): SqlRow | undefined => query(params).rows?.[0],
      all: (...params: SqlValue[]): SqlRow[] => query(params).rows ?? [],
      run: (...params: SqlValue[]): SqlRunResult => ({ changes: query(params).changes ?? 0 }),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // A server that no longer answers must not hold a stopping node for the whole call timeout.
      this.call({ op: "close" }, CLOSE_TIMEOUT_MS);
    } catch {
      // Closing anyway: the worker and its socket go with terminate().
    } finally {
      this.worker.terminate();
    }
  }

  private call(
    request: WorkerRequest,
    timeoutMs = this.callTimeoutMs,
  ): Extract<WorkerAnswer, { ok: true }> {
    if (this.closed && request.op !== "close") throw new PostgresError("database is closed");
    Atomics.store(this.control, STATE, 0);
    this.worker.postMessage({ request });
    const parts: Uint8Array[] = [this.await(timeoutMs)];
    while (this.control[MORE] === 1) {
      Atomics.store(this.control, STATE, 0);
      this.worker.postMessage({ request: { op: "next" } });
      parts.push(this.await(timeoutMs));
    }
    const bytes = parts.length === 1 ? parts[0] : concat(parts);
    const answer = JSON.parse(new TextDecoder().decode(bytes)) as WorkerAnswer;
    if (!answer.ok) throw new PostgresError(answer.message, answer.code, answer.detail);
    return answer;
  }

  /** Blocks until the worker marks a chunk ready; returns a copy of it. */
  private await(timeoutMs: number): Uint8Array {
    const outcome = Atomics.wait(this.control, STATE, 0, timeoutMs);
    if (outcome === "timed-out") {
      this.closed = true;
      this.worker.terminate();
      throw new PostgresError(`no answer from PostgreSQL within ${timeoutMs} ms`);
    }
    const length = this.control[LENGTH];
    return new Uint8Array(this.buffer, HEADER_BYTES, length).slice();
  }
}

function toParameter(value: SqlValue): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
