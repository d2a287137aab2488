// The NDJSON upload format of a run, parsed as a stream so large runs never sit in memory as text:
//   line 1: {"study", "name", "testExamples", "initialLosses"}
//   line t+1: {"batch": [...], "losses": [...], "lr"?}  (losses after step t)

import { float32Decimals } from "../float32.ts";
import { DomainError, InvalidInputError } from "../errors.ts";
import {
  checkId,
  checkLossRow,
  checkStep,
  checkTestExamples,
  type RunInput,
  type RunStep,
  validateRunInput,
} from "./run_input.ts";
import {
  checkBatchSize,
  checkStudyTrainIds,
  DEFAULT_RUN_LIMITS,
  type RunLimits,
} from "./run_limits.ts";

/** The longest line accepted, in UTF-16 code units: a step of ~500k test examples' losses. */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

/**
 * Yields [lineNumber, text] for each non-blank line of a UTF-8 byte stream. Linear in the body:
 * each chunk is scanned once from where the last line ended, and a line split over chunks is kept
 * as a list of pieces joined once. A line longer than `maxLineChars` is a 413 as soon as it passes
 * the limit, before the rest of it is read.
 */
export async function* ndjsonLines(
  body: ReadableStream<Uint8Array>,
  maxLineChars = MAX_LINE_CHARS,
): AsyncGenerator<[number, string]> {
  let pieces: string[] = [];
  let pendingChars = 0;
  let lineNumber = 0;
  const tooLong = () =>
    new DomainError(
      "too_large",
      "line_too_long",
      `line ${lineNumber + 1} is longer than ${maxLineChars} characters`,
      { line: lineNumber + 1, limitChars: maxLineChars },
    );
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    let start = 0;
    let newline: number;
    while ((newline = chunk.indexOf("\n", start)) >= 0) {
      if (pendingChars + newline - start > maxLineChars) throw tooLong();
      const tail = chunk.slice(start, newline);
      const line = pieces.length === 0 ? tail : pieces.join("") + tail;
      pieces = [];
      pendingChars = 0;
      start = newline + 1;
      lineNumber++;
      if (line.trim() !== "") yield [lineNumber, line];
    }
    if (start < chunk.length) {
      pendingChars += chunk.length - start;
      if (pendingChars > maxLineChars) throw tooLong();
      pieces.push(chunk.slice(start));
    }
  }
  lineNumber++;
  const last = pieces.join("");
  if (last.trim() !== "") yield [lineNumber, last];
}

function lineError(line: number, message: string, field?: string): InvalidInputError {
  return new InvalidInputError(
    `line ${line}${field ? ` (${field})` : ""}: ${message}`,
    { line, field: field ?? null },
    "invalid_run",
  );
}

export function parseJsonLine(line: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw lineError(line, `malformed JSON: ${e instanceof Error ? e.message : e}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw lineError(line, "each line must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function stringArray(value: unknown, line: number, field: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw lineError(line, "must be an array of strings", field);
  }
  return value as string[];
}

function rejectUnknownKeys(obj: Record<string, unknown>, allowed: string[], line: number): void {
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw lineError(line, `unknown field(s): ${unknown.join(", ")}`);
}

/** Growable f32 storage, so losses are kept as 4 bytes a value rather than JSON text. */
class FloatRows {
  private data: Float32Array;
  length = 0;
  constructor(private readonly width: number) {
    this.data = new Float32Array(Math.max(width * 64, 1));
  }
  push(row: Float32Array): void {
    if (this.length + this.width > this.data.length) {
      const grown = new Float32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data.set(row, this.length);
    this.length += this.width;
  }
  finish(): Float32Array {
    return this.data.slice(0, this.length);
  }
}

/** Parses an NDJSON run; every error names its line. `maxSteps` bounds memory for hostile input. */
export async function runFromNdjson(
  body: ReadableStream<Uint8Array>,
  options: { maxSteps?: number; maxLineChars?: number; limits?: RunLimits } = {},
): Promise<RunInput> {
  const limits = options.limits ?? DEFAULT_RUN_LIMITS;
  // Counted as lines arrive, so a run past the study limit stops at the line that passes it.
  const distinct = new Set<string>();
  let header: Omit<RunInput, "steps" | "losses"> | null = null;
  let rows: FloatRows | null = null;
  const steps: RunStep[] = [];
  for await (const [line, text] of ndjsonLines(body, options.maxLineChars)) {
    const obj = parseJsonLine(line, text);
    if (!header) {
      rejectUnknownKeys(obj, ["study", "name", "testExamples", "initialLosses"], line);
      if (typeof obj.study !== "string") throw lineError(line, "must be a string", "study");
      if (typeof obj.name !== "string") throw lineError(line, "must be a string", "name");
      const testExamples = stringArray(obj.testExamples, line, "testExamples");
      try {
        checkId(obj.study, "study");
        checkId(obj.name, "name");
        checkTestExamples(testExamples);
      } catch (e) {
        throw e instanceof InvalidInputError ? atLine(line, e) : e;
      }
      if (!Array.isArray(obj.initialLosses)) {
        throw lineError(line, "must be an array of numbers", "initialLosses");
      }
      header = { study: obj.study, name: obj.name, testExamples };
      rows = new FloatRows(testExamples.length);
      rows.push(
        wrap(
          line,
          () => checkLossRow(obj.initialLosses as unknown[], testExamples.length, "initialLosses"),
        ),
      );
      continue;
    }
    rejectUnknownKeys(obj, ["batch", "losses", "lr"], line);
    const batch = stringArray(obj.batch, line, "batch");
    checkBatchSize(batch.length, limits, { line, field: "batch" });
    for (const id of batch) distinct.add(id);
    checkStudyTrainIds(distinct.size, limits, { line, field: "batch", study: header.study });
    if (obj.lr !== undefined && typeof obj.lr !== "number") {
      throw lineError(line, "must be a number", "lr");
    }
    const step: RunStep = obj.lr === undefined ? { batch } : { batch, lr: obj.lr as number };
    wrap(line, () => checkStep(step, "step"));
    if (!Array.isArray(obj.losses)) throw lineError(line, "must be an array of numbers", "losses");
    rows!.push(
      wrap(
        line,
        () => checkLossRow(obj.losses as unknown[], header!.testExamples.length, "losses"),
      ),
    );
    steps.push(step);
    if (options.maxSteps !== undefined && steps.length > options.maxSteps) {
      const message = `more than ${options.maxSteps} steps`;
      throw new DomainError("too_large", "payload_too_large", message, { line });
    }
  }
  if (!header) throw new InvalidInputError("empty body: the first line must hold the run header");
  const run: RunInput = { ...header, steps, losses: rows!.finish() };
  validateRunInput(run, limits);
  return run;
}

function wrap<T>(line: number, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof InvalidInputError) throw atLine(line, e);
    throw e;
  }
}

/** A run check's error, located at an NDJSON line; keeps the field it named. */
function atLine(line: number, e: InvalidInputError): InvalidInputError {
  const details = e.details as { field?: unknown } | null;
  const field = typeof details?.field === "string" ? details.field : null;
  return new InvalidInputError(`line ${line}: ${e.message}`, { line, field }, "invalid_run");
}

/** Serialises a run back to the NDJSON upload format. */
export function* runToNdjson(run: RunInput): Generator<string> {
  const m = run.testExamples.length;
  yield JSON.stringify({
    study: run.study,
    name: run.name,
    testExamples: run.testExamples,
    initialLosses: float32Decimals(run.losses.subarray(0, m)),
  }) + "\n";
  for (let t = 1; t <= run.steps.length; t++) {
    const step = run.steps[t - 1];
    yield JSON.stringify({
      batch: step.batch,
      losses: float32Decimals(run.losses.subarray(t * m, (t + 1) * m)),
      ...(step.lr === undefined ? {} : { lr: step.lr }),
    }) + "\n";
  }
}
