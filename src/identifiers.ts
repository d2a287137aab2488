// The characters user-chosen names and ids (studies, runs, datasets, models, example ids) may not
// hold. They are opaque strings otherwise (never file paths), but they are stored in SQLite TEXT
// columns, which end at a NUL (so "n\u0000A" and "n\u0000B" would both read back as "n"), listed,
// put in URLs and shown to people:
// - C0 controls U+0000–U+001F, DEL U+007F and C1 controls U+0080–U+009F;
// - bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, which make an
//   id display as a different one ("Trojan Source"); the plain marks U+200E/U+200F/U+061C reorder
//   nothing and stay allowed;
// - lone UTF-16 surrogates, which cannot be stored as UTF-8 and would read back as U+FFFD.
import { InvalidInputError } from "./errors.ts";

// deno-lint-ignore no-control-regex -- control characters are exactly what it looks for
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function hex(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Why `value` cannot be a name or id, or null when it can. */
export function identifierProblem(value: string): string | null {
  const found = FORBIDDEN.exec(value);
  if (found) {
    const what = /[\u202a-\u202e\u2066-\u2069]/.test(found[0])
      ? "a bidirectional override"
      : "a control character";
    return `must not contain ${what} (${hex(found[0].charCodeAt(0))} at index ${found.index})`;
  }
  if (!value.isWellFormed()) return "must not contain a lone UTF-16 surrogate";
  return null;
}

/** Throws a 400 naming `field` when `value` holds a character names and ids may not. */
export function checkIdentifier(value: string, field: string, code = "invalid_identifier"): void {
  const problem = identifierProblem(value);
  if (problem) throw new InvalidInputError(`${field}: ${problem}`, { field }, code);
}

/** Text stored as-is (example texts, prompts): only NUL, which SQLite would cut it at, is refused. */
export function textProblem(value: string): string | null {
  const nul = value.indexOf("\u0000");
  if (nul >= 0) return `must not contain NUL (U+0000 at index ${nul})`;
  if (!value.isWellFormed()) return "must not contain a lone UTF-16 surrogate";
  return null;
}
