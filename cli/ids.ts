// Option values and the names people type: comma-separated or repeated lists, `id=n` pairs, and
// runs named by name within a study (the service addresses them by id).
import type { Context } from "./context.ts";
import { CliError, EXIT, ServerError, usageError } from "./errors.ts";

/** For `.option("--x <ids>", …, list, [])`: "a,b" and repeated flags both add. */
export function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter((s) => s !== "")];
}

export function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw usageError(`not an integer: "${value}"`);
  return n;
}

export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw usageError(`not a number: "${value}"`);
  return n;
}

/** "e4=2" pairs into {e4: 2}. */
export function counts(value: string, previous: Record<string, number> = {}) {
  const out = { ...previous };
  for (const pair of list(value)) {
    const eq = pair.lastIndexOf("=");
    const n = Number(pair.slice(eq + 1));
    if (eq <= 0 || !Number.isInteger(n)) throw usageError(`expected id=count, got "${pair}"`);
    out[pair.slice(0, eq)] = n;
  }
  return out;
}

/** A count ("32") or ids ("a,b"), as the service's example selections take them. */
export function selection(value: string): number | string[] {
  return /^\d+$/.test(value) ? Number(value) : list(value);
}

interface RunRow {
  id: string;
  name: string;
}

/**
 * Run ids for the given ids or names. With a study every reference must be one of its runs (ids
 * or names); without one they are taken as ids.
 */
export async function runIds(ctx: Context, study: string | undefined, refs: string[]) {
  if (study === undefined) return refs;
  const runs = await ctx.client.all<RunRow>("/v1/runs", "runs", { study });
  const byId = new Set(runs.map((r) => r.id));
  const byName = new Map(runs.map((r) => [r.name, r.id]));
  return refs.map((ref) => {
    if (byId.has(ref)) return ref;
    const id = byName.get(ref);
    if (id === undefined) {
      throw new CliError(`no run "${ref}" in study "${study}"`, EXIT.notFound);
    }
    return id;
  });
}

/**
 * Runs `request` on runs named on the command line; without a study, a 404 gets a hint, since the
 * name may have been meant as a run name.
 */
export async function onNamedRuns<T>(study: string | undefined, request: () => Promise<T>) {
  try {
    return await request();
  } catch (e) {
    if (study === undefined && e instanceof ServerError && e.status === 404) {
      e.hint = "runs are addressed by id; to give a run's name, add --study";
    }
    throw e;
  }
}
