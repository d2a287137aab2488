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

function failure(error: unknown): WorkerAnswer {
  const e = error as { message?: string; code?: string; detail?: string };
  return { ok: false, message: e?.message ?? String(error), code: e?.code, detail: e?.detail };
}

async function handle(request: WorkerRequest): Promise<WorkerAnswer> {
  switch (request.op) {
    case "hello":
      return { ok: true };
    case "open": {
      client = new pg.Client({
        connectionString: request.url,
        application_name: request.applicationName,
        statement_timeout: request.statementTimeoutMs,
      });
      // A dropped connection is reported on the next query; without a listener it would crash.
      client.on("error", () => {});
      await client.connect();
      return { ok: true };
    }
    case "query": {
      const result = await client!.query({ text: request.sql, values: request.params });
      return { ok: true, rows: result.rows, changes: result.rowCount ?? 0 };
    }
    case "exec": {
      await client!.query(request.sql);
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
