// The messages between PostgresDatabase (a synchronous caller, blocked in Atomics.wait) and its
// worker (which holds the asynchronous connection). Answers travel as JSON through one shared
// buffer, in chunks when they are larger than it.

export type WorkerRequest =
  | { op: "hello" }
  | { op: "open"; url: string; statementTimeoutMs: number; applicationName: string }
  | { op: "query"; sql: string; params: unknown[] }
  | { op: "exec"; sql: string }
  | { op: "next" }
  | { op: "close" };

export type WorkerAnswer =
  | { ok: true; rows?: Record<string, unknown>[]; changes?: number }
  | { ok: false; message: string; code?: string; detail?: string };

/** Int32 slots at the head of the shared buffer. */
export const STATE = 0; // 0 while the worker works, 1 when a chunk is ready
export const LENGTH = 1; // bytes of JSON in this chunk
export const MORE = 2; // 1 when further chunks follow
export const HEADER_BYTES = 16;
