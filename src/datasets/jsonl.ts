// Dataset uploads as JSONL: one example per line, `{"id"?, "text"}` or
// `{"id"?, "prompt", "completion"}`. Blank lines are skipped; line numbers in errors are 1-based
// and count every line. Missing ids become `<name>-<line>`.
import { DomainError } from "../errors.ts";
import { identifierProblem, textProblem } from "../identifiers.ts";
import type { DatasetExample } from "./example.ts";

export class DatasetFormatError extends DomainError {
  override name = "DatasetFormatError";
  declare readonly details: { line?: number; id?: string; problem: string };
  constructor(message: string, details: { line?: number; id?: string; problem: string }) {
    super("invalid", "invalid_dataset", message, details);
  }
}

/** Ids travel in URLs, query strings and CSV-like lists: keep them printable and bounded. */
export const MAX_ID_LENGTH = 200;

function fail(line: number, problem: string, message: string, id?: string): never {
  throw new DatasetFormatError(
    `line ${line}: ${message}`,
    id === undefined ? { line, problem } : { line, id, problem },
  );
}

function exampleId(raw: unknown, name: string, line: number): string {
  if (raw === undefined || raw === null) return `${name}-${line}`;
  if (typeof raw === "number" && Number.isSafeInteger(raw)) return String(raw);
  if (typeof raw !== "string" || raw.trim() === "" || raw.length > MAX_ID_LENGTH) {
    fail(line, "id", `"id" must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  const problem = identifierProblem(raw);
  if (problem) fail(line, "id", `"id" ${problem}`);
  return raw;
}

function parseLine(value: unknown, name: string, line: number): DatasetExample {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(line, "not_object", "each line must be a JSON object");
  }
  const o = value as Record<string, unknown>;
  const id = exampleId(o.id, name, line);
  const hasText = "text" in o, hasPrompt = "prompt" in o || "completion" in o;
  if (hasText === hasPrompt) {
    fail(line, "shape", 'give either "text" or "prompt" and "completion"', id);
  }
  if (hasText) {
    if (typeof o.text !== "string" || o.text === "") {
      fail(line, "text", '"text" must be a non-empty string', id);
    }
    checkText(o.text, "text", line, id);
    return { id, text: o.text };
  }
  if (typeof o.prompt !== "string") fail(line, "prompt", '"prompt" must be a string', id);
  if (typeof o.completion !== "string" || o.completion === "") {
    fail(line, "completion", '"completion" must be a non-empty string', id);
  }
  checkText(o.prompt, "prompt", line, id);
  checkText(o.completion, "completion", line, id);
  return { id, prompt: o.prompt, completion: o.completion };
}

function checkText(value: string, field: string, line: number, id: string): void {
  const problem = textProblem(value);
  if (problem) fail(line, field, `"${field}" ${problem}`, id);
}

export function parseDatasetJsonl(text: string, name: string): DatasetExample[] {
  const examples: DatasetExample[] = [];
  const seen = new Map<string, number>();
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const source = lines[i].replace(/\r$/, "");
    if (source.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch (e) {
      fail(line, "json", `malformed JSON (${(e as Error).message})`);
    }
    const example = parseLine(value, name, line);
    const first = seen.get(example.id);
    if (first !== undefined) {
      fail(
        line,
        "duplicate_id",
        `duplicate id "${example.id}" (first on line ${first})`,
        example.id,
      );
    }
    seen.set(example.id, line);
    examples.push(example);
  }
  if (examples.length === 0) {
    throw new DatasetFormatError("the dataset is empty: give at least one example line", {
      problem: "empty",
    });
  }
  return examples;
}
