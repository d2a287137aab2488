// Writes that fail because the disk is full, read-only or not writable are the operator's problem,
// not the client's and not a bug: they answer 507 with the JSON error shape instead of a 500. The
// store's ordering (temp file, fsync, rename, then the commit) means such a failure has changed
// nothing a reader can see; the request can be retried once space is back.
import { DomainError, UnavailableError } from "../errors.ts";
import { PostgresError } from "./sql/postgres_database.ts";

export class StorageFullError extends DomainError {
  override name = "StorageFullError";
  constructor(cause: string) {
    super(
      "storage",
      "insufficient_storage",
      `the data directory cannot be written (${cause}); nothing was stored, retry once there is space`,
      { cause },
    );
  }
}

/** OS error codes of a write the disk refused. */
const FS_CODES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EACCES", "EPERM", "EFBIG"]);
/** What node:sqlite reports for SQLITE_FULL, SQLITE_READONLY and SQLITE_IOERR. */
const SQLITE_MESSAGES =
  /database or disk is full|attempt to write a readonly database|disk I\/O error/i;

/** PostgreSQL cannot be reached or is going away: a 503, retried once the database is back. */
export class DatabaseUnavailableError extends UnavailableError {
  override name = "DatabaseUnavailableError";
  constructor(cause: string) {
    super(
      `the database cannot be reached (${cause}); retry shortly`,
      { cause },
      "database_unavailable",
    );
  }
}

/**
 * SQLSTATE classes of a PostgreSQL that is unreachable, shutting down or too busy: 08 (connection
 * exception), 57P01–57P03 (admin shutdown, crash shutdown, cannot connect now), and BUSY_CODES.
 */
function postgresUnavailable(error: PostgresError): boolean {
  if (error.code === undefined) return true; // no SQLSTATE: the connection itself failed
  return error.code.startsWith("08") || /^57P0[123]$/.test(error.code) ||
    BUSY_CODES.has(error.code);
}

/**
 * A database too busy to answer in time, not a fault: a statement timeout (57014, e.g. waiting on
 * the cluster-wide write lock), a lock not available (55P03), a serialisation failure or
 * deadlock (40001, 40P01). A retry succeeds once the load passes.
 */
const BUSY_CODES = new Set(["57014", "55P03", "40001", "40P01"]);

/**
 * The StorageFullError or DatabaseUnavailableError that `error` amounts to, or null when it is
 * something else.
 */
export function storageFailure(error: unknown): DomainError | null {
  if (error instanceof StorageFullError) return error;
  if (error instanceof PostgresError) {
    // 53100: disk full on the database server.
    if (error.code === "53100") return new StorageFullError(error.message);
    return postgresUnavailable(error) ? new DatabaseUnavailableError(error.message) : null;
  }
  if (!(error instanceof Error) || error instanceof DomainError) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && FS_CODES.has(code)) return new StorageFullError(code);
  if (SQLITE_MESSAGES.test(error.message)) return new StorageFullError(error.message);
  return null;
}
