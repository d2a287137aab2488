// JSON.parse of a long JSON array as steps: a stored curriculum of a few hundred thousand ids is
// megabytes of text, and one JSON.parse of it holds the service's only thread for a noticeable
// time. Large arrays and objects are split into their members by a scan that knows strings and
// nesting, small values go to JSON.parse, and the work yields between members and every few
// thousand characters scanned.

/** Values shorter than this (in characters) are parsed in one JSON.parse call. */
const LARGE_VALUE_CHARS = 1 << 16;
/** Characters scanned between two yields. */
const SCAN_CHUNK = 1 << 16;

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * The JSON array `text`, as JSON.parse gives it, yielding as it goes. A SyntaxError where
 * JSON.parse would throw one, or when the text is not an array. `largeValueChars` (tests) sets
 * the size from which a container is split instead of parsed at once.
 */
export function* jsonArraySteps(
  text: string,
  largeValueChars = LARGE_VALUE_CHARS,
): Generator<void, unknown[], void> {
  const value = yield* valueSteps(text, 0, text.length, largeValueChars);
  if (!Array.isArray(value)) throw new SyntaxError("expected a JSON array");
  return value;
}

/** The JSON value in text[from, to), whitespace around it allowed. */
function* valueSteps(
  text: string,
  from: number,
  to: number,
  large: number,
): Generator<void, unknown, void> {
  while (from < to && isSpace(text.charCodeAt(from))) from++;
  while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
  const open = text[from];
  if (to - from < large || (open !== "[" && open !== "{")) {
    return JSON.parse(text.slice(from, to));
  }
  if (text[to - 1] !== (open === "[" ? "]" : "}")) {
    throw new SyntaxError(`unexpected text at position ${to - 1}`);
  }
  const members = yield* splitMembers(text, from + 1, to - 1);
  const blank = (span: [number, number]) => text.slice(span[0], span[1]).trim() === "";
  if (members.length === 1 && blank(members[0])) return open === "[" ? [] : {};
  if (open === "[") {
    // Runs of small elements are parsed together, up to `large` characters a JSON.parse call.
    const out: unknown[] = [];
    let group = -1;
    const flush = (upTo: number) => {
      if (group < 0) return;
      const values = JSON.parse(`[${text.slice(members[group][0], members[upTo - 1][1])}]`);
      // As many values as elements: a blank element parses to none and is an error.
      if (values.length !== upTo - group) throw new SyntaxError('unexpected "," in an array');
      for (const value of values) out.push(value);
      group = -1;
    };
    for (let k = 0; k < members.length; k++) {
      const [start, end] = members[k];
      if (end - start >= large) {
        flush(k);
        out.push(yield* valueSteps(text, start, end, large));
        yield;
      } else if (group < 0) group = k;
      else if (end - members[group][0] >= large) {
        flush(k);
        group = k;
        yield;
      }
    }
    flush(members.length);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [start, end] of members) {
    const colon = keyEnd(text, start, end);
    const key = JSON.parse(text.slice(start, colon));
    if (typeof key !== "string") throw new SyntaxError(`expected a key at position ${start}`);
    // Defined, not assigned: a "__proto__" key is data, as JSON.parse keeps it.
    Object.defineProperty(out, key, {
      value: yield* valueSteps(text, colon + 1, end, large),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    yield;
  }
  return out;
}

/** Spans of the members of the container whose inside is text[from, to), split at its commas. */
function* splitMembers(
  text: string,
  from: number,
  to: number,
): Generator<void, [number, number][], void> {
  const spans: [number, number][] = [];
  let depth = 0;
  let inString = false;
  let start = from;
  for (let k = from; k < to; k++) {
    if ((k - from) % SCAN_CHUNK === SCAN_CHUNK - 1) yield;
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 0x5c) k++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) depth++;
    else if (c === 0x5d || c === 0x7d) {
      if (--depth < 0) throw new SyntaxError(`unexpected "${text[k]}" at position ${k}`);
    } else if (c === 0x2c && depth === 0) {
      spans.push([start, k]);
      start = k + 1;
    }
  }
  if (inString || depth !== 0) throw new SyntaxError("unterminated string, array or object");
  spans.push([start, to]);
  return spans;
}

/** The position of the colon after the key that starts a member at `start`. */
function keyEnd(text: string, start: number, end: number): number {
  let inString = false;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 0x5c) k++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) return k;
  }
  throw new SyntaxError(`expected ":" after the key at position ${start}`);
}
