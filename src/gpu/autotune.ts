// Per-adapter autotuning support: a key naming the adapter and driver, a JSON cache file of
// choices keyed by it, and honest timing (warm-up, then the median of synced runs).
import { basename, dirname, join } from "node:path";
import type { GpuRuntime } from "./runtime.ts";

/** Names the adapter and driver; tuning results are only reused for the same key. */
export function adapterKey(rt: GpuRuntime): string {
  const d = rt.gpu.describe();
  return [d.vendor, d.architecture, d.device, d.description, d.backend].join(" | ");
}

type CacheFile = Record<string, Record<string, unknown>>;

async function readCacheFile(path: string): Promise<CacheFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  try {
    const parsed = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? parsed as CacheFile : {};
  } catch {
    return {}; // A corrupt cache only costs a re-tune.
  }
}

/** The cached entry `name` for this adapter, or null. */
export async function readTuneCache(
  path: string,
  key: string,
  name: string,
): Promise<Record<string, unknown> | null> {
  const entry = (await readCacheFile(path))[key]?.[name];
  return typeof entry === "object" && entry !== null ? entry as Record<string, unknown> : null;
}

/** Stores entry `name` for this adapter, keeping other adapters' and kernels' entries. */
export async function writeTuneCache(
  path: string,
  key: string,
  name: string,
  entry: Record<string, unknown>,
): Promise<void> {
  const all = await readCacheFile(path);
  all[key] = { ...all[key], [name]: entry };
  const dir = path.replace(/[\\/][^\\/]*$/, "");
  if (dir && dir !== path) await Deno.mkdir(dir, { recursive: true });
  // Write then rename so that a concurrent reader never sees half a file.
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(all, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/**
 * Removes the temporary files of cache writes that a killed process never renamed; called at
 * start-up, before anything of this process writes the cache.
 */
export async function removeStaleTuneTemps(path: string): Promise<number> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (
        entry.isFile && entry.name.startsWith(prefix) &&
        /^\d+\.tmp$/.test(entry.name.slice(prefix.length))
      ) {
        await Deno.remove(join(dir, entry.name));
        removed++;
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return removed;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface TimingOptions {
  /** Untimed runs first (compilation, caches). */
  warmup?: number;
  reps: number;
  /** Stops early once one run takes longer than this (ms); for hopeless candidates. */
  giveUpMs?: number;
}

/** Median wall time in ms of `run`, each run followed by rt.sync() so GPU work is included. */
export async function timeGpu(
  rt: GpuRuntime,
  run: () => Promise<void> | void,
  options: TimingOptions,
): Promise<number> {
  for (let i = 0; i < (options.warmup ?? 1); i++) {
    await run();
    await rt.sync();
  }
  const times: number[] = [];
  for (let i = 0; i < options.reps; i++) {
    const start = performance.now();
    await run();
    await rt.sync();
    const ms = performance.now() - start;
    times.push(ms);
    if (options.giveUpMs !== undefined && ms > options.giveUpMs) break;
  }
  return median(times);
}
