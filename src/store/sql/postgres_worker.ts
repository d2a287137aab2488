// Worker side of PostgresDatabase: one node-postgres connection, driven by requests from the
// blocked caller. BIGINT and NUMERIC come back as JS numbers: the store keeps millisecond times and
// counts in them, all far below 2^53.
import pg from "pg";
import {
  HEADER_BYTES,
  LENGTH,
  MORE,
  STATE,
  type WorkerAnswer,
  type WorkerRequest,
} from "./postgres_protocol.ts";

pg.types.setTypeParser(20, Number); // int8
pg.types.setTypeParser(1700, Number); // numeric

let client: pg.Client | null = null;
let shared: SharedArrayBuffer | null = null;
let pending: Uint8Array = new Uint8Array(0);

function deliver(answer: WorkerAnswer): void {
  pending = new TextEncoder().encode(JSON.stringify(answer));
  sendChunk();
}

function sendChunk(): void {
  const ctl = new Int32Array(shared!, 0, 4);
  const capacity = shared!.byteLength - HEADER_BYTES;
  const chunk = pending.subarray(0, capacity);
  new Uint8Array(shared!, HEADER_BYTES, chunk.length).set(chunk);
  pending = pending.subarray(chunk.length);
  ctl[LENGTH] = chunk.length;
  ctl[MORE] = pending.length > 0 ? 1 : 0;
  Atomics.store(ctl, STATE, 1);
  Atomics.notify(ctl, STATE);
}

let settings: Extract<WorkerRequest, { op: "open" }> | null = null;
/** Set when the connection failed: the next request connects again (a transaction is lost). */
let broken = false;

async function connect(): Promise<pg.Client> {
  const open = settings!;
  const next = new pg.Client({
    connectionString: open.url,
    application_name: open.applicationName,
    statement_timeout: open.statementTimeoutMs,
    // A server that stops answering (a partition, not an error) fails the call instead of
    // leaving the blocked caller to its own, longer timeout.
    query_timeout: open.statementTimeoutMs + 5_000,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // Without a listener a dropped connection would crash the worker; the next call reconnects.
  next.on("error", () => (broken = true));
  await next.connect();
  broken = false;
  return next;
}

/** Between BEGIN and COMMIT/ROLLBACK (as sent by the store's Transactions). */
let inTransaction = false;

async function connection(): Promise<pg.Client> {
  if (client && !broken) return client;
  // Statements of a transaction must not run on a new connection in autocommit: the caller is
  // told, and its ROLLBACK (which the dead server already did) ends the transaction here.
  if (inTransaction) throw new Error("the database connection was lost inside a transaction");
  await client?.end().catch(() => {});
  client = null;
  client = await connect();
  return client;
}

async function handle(request: WorkerRequest): Promise<WorkerAnswer> {
  switch (request.op) {
    case "hello":
      return { ok: true };
    case "open": {
      settings = request;
      await connection();
      return { ok: true };
    }
    case "query": {
      const result = await (await connection()).query({
        text: request.sql,
        values: request.params,
      });
      return { ok: true, rows: result.rows, changes: result.rowCount ?? 0 };
    }
    case "exec": {
      const statement = request.sql.trimStart().slice(0, 12).toUpperCase();
      const begins = statement.startsWith("BEGIN");
      const ends = statement.startsWith("COMMIT") ||
        (statement.startsWith("ROLLBACK") && !statement.startsWith("ROLLBACK TO"));
      if (ends && broken && inTransaction) {
        // The server rolled the transaction back when the connection died: a ROLLBACK agrees,
        // a COMMIT must fail.
        inTransaction = false;
        if (statement.startsWith("ROLLBACK")) return { ok: true };
        throw new Error("the database connection was lost before COMMIT; nothing was committed");
      }
      const connected = await connection();
      if (begins) inTransaction = true;
      try {
        await connected.query(request.sql);
      } catch (error) {
        // A failed BEGIN (e.g. the lock wait timed out) is never followed by the caller's
        // ROLLBACK; a failed COMMIT or ROLLBACK ends the transaction on the server too.
        if (begins) await connected.query("ROLLBACK").catch(() => {});
        if (begins || ends) inTransaction = false;
        throw error;
      }
      if (ends) inTransaction = false;
      return { ok: true };
    }
    case "close": {
      await client?.end().catch(() => {});
      client = null;
      return { ok: true };
    }
    default:
      return { ok: false, message: `unknown request ${(request as { op: string }).op}` };
  }
}

function failure(error: unknown): WorkerAnswer {
  const e = error as { message?: string; code?: string; detail?: string };
  // Only SQLSTATEs are passed on; node's own codes (ECONNREFUSED, …) mean no server answered.
  const sqlstate = typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  // The connection itself failed (refused, reset, timed out, or the server ended it: 08xxx,
  // 57P01–57P03): connect anew on the next call.
  if (!sqlstate || sqlstate.startsWith("08") || /^57P0[123]$/.test(sqlstate)) broken = true;
  return { ok: false, message: e?.message ?? String(error), code: sqlstate, detail: e?.detail };
}

globalThis.addEventListener("message", async (event: Event) => {
  const { request, buffer } = (event as MessageEvent).data as {
    request: WorkerRequest;
    buffer?: SharedArrayBuffer;
  };
  if (buffer) shared = buffer;
  if (request.op === "next") return sendChunk();
  let answer: WorkerAnswer;
  try {
    answer = await handle(request);
  } catch (error) {
    answer = failure(error);
  }
  deliver(answer);
});
