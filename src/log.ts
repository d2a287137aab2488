// Structured logging: one JSON object per line, so logs can be filtered by field.
import type { LogLevel } from "./config.ts";

export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives each finished line (without newline); defaults to stdout. */
  sink?: (line: string) => void;
  fields?: LogFields;
}

const encoder = new TextEncoder();
const stdoutSink = (line: string) => Deno.stdout.writeSync(encoder.encode(line + "\n"));

/** Errors have no enumerable fields, so JSON.stringify would drop them to `{}`. */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    return {
      name: value.name,
      message: value.message,
      stack: value.stack,
      ...(value.cause !== undefined ? { cause: serialise(value.cause) } : {}),
    };
  }
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  const sink = options.sink ?? stdoutSink;
  const base = options.fields ?? {};
  const write = (lineLevel: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lineLevel] < RANK[level]) return;
    const entry: LogFields = { time: new Date().toISOString(), level: lineLevel, msg };
    for (const [k, v] of Object.entries(base)) entry[k] = serialise(v);
    if (fields) { for (const [k, v] of Object.entries(fields)) entry[k] = serialise(v); }
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch (e) {
      // Cyclic or BigInt fields must not take the caller down with them.
      line = JSON.stringify({ time: entry.time, level: lineLevel, msg, logError: String(e) });
    }
    try {
      sink(line);
    } catch {
      // A closed stdout (e.g. a broken pipe) must not crash request handling.
    }
  };
  return {
    level,
    debug: (msg, fields) => write("debug", msg, fields),
    info: (msg, fields) => write("info", msg, fields),
    warn: (msg, fields) => write("warn", msg, fields),
    error: (msg, fields) => write("error", msg, fields),
    child: (fields) => createLogger({ level, sink, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function memoryLogger(level: LogLevel = "debug"): Logger & { lines: LogFields[] } {
  const lines: LogFields[] = [];
  const logger = createLogger({ level, sink: (line) => lines.push(JSON.parse(line)) });
  return Object.assign(logger, { lines });
}
