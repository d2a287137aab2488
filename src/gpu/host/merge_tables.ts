// The CPU backend's lookup tables (every port, every split port) are merged from one table per
// capability; a name given twice is a mistake, caught when the table is first used.

/** One map of every table's entries; throws on a name that two tables give. */
export function mergeTables<T>(
  tables: readonly Readonly<Record<string, T>>[],
  what: string,
): Map<string, T> {
  const merged = new Map<string, T>();
  for (const table of tables) {
    for (const [key, entry] of Object.entries(table)) {
      if (merged.has(key)) throw new Error(`two ${what} are named ${key}`);
      merged.set(key, entry);
    }
  }
  return merged;
}
