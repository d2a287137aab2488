// Making a name column unique in a table that may already hold duplicates: the oldest row keeps
// the name, later ones become `<name>-2`, `<name>-3`, … (skipping names already taken), then a
// unique index keeps it so. Used by migrations of modules whose resources are addressed by name.
import type { SqlDatabase } from "./sql/database.ts";

export function adoptUniqueNames(
  db: SqlDatabase,
  table: string,
  options: { index: string; orderBy: string },
): void {
  const duplicated = db.prepare(
    `SELECT name FROM ${table} WHERE name IS NOT NULL GROUP BY name HAVING COUNT(*) > 1`,
  ).all() as { name: string }[];
  const taken = db.prepare(`SELECT 1 FROM ${table} WHERE name = ?`);
  const rename = db.prepare(`UPDATE ${table} SET name = ? WHERE id = ?`);
  for (const { name } of duplicated) {
    const rows = db.prepare(
      `SELECT id FROM ${table} WHERE name = ? ORDER BY ${options.orderBy}`,
    ).all(name) as { id: string }[];
    let suffix = 2;
    for (const { id } of rows.slice(1)) {
      while (taken.get(`${name}-${suffix}`)) suffix++;
      rename.run(`${name}-${suffix}`, id);
      suffix++;
    }
  }
  db.exec(`CREATE UNIQUE INDEX ${options.index} ON ${table} (name)`);
}
