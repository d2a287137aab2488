// Exit codes and the one error type the CLI's commands throw; main.ts turns it into a message on
// stderr and the exit code, so scripts can tell a typo from a missing run from a dead service.

export const EXIT = {
  ok: 0,
  /** The service refused or failed the operation, or a followed job failed or was cancelled. */
  failed: 1,
  /** Bad arguments or options, or a local file that cannot be read. */
  usage: 2,
  notFound: 3,
  auth: 4,
  /** The service could not be reached, or did not answer like the service. */
  connection: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = "CliError";
  /** A line of advice printed under the message (the message itself stays as it was). */
  hint: string | null = null;
  constructor(message: string, readonly exitCode: ExitCode) {
    super(message);
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** The service's own error body, {"error": {code, message, details}}, kept whole. */
export interface ServerErrorBody {
  error: { code: string; message: string; details?: unknown; requestId?: string };
}

export class ServerError extends CliError {
  override name = "ServerError";
  constructor(
    readonly status: number,
    readonly body: ServerErrorBody,
    /** Seconds from a 429's Retry-After header. */
    readonly retryAfter: number | null = null,
  ) {
    super(body.error.message, exitCodeForStatus(status));
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.auth;
  return EXIT.failed;
}
