// What a simulator left in the tensor store: its recorded parameters files, plus any file on disk
// that no record names (what an interrupted write or a lost race would leave behind).
import type { SqliteStore } from "../../src/store/sqlite.ts";
import type { PostgresStore } from "../../src/store/postgres.ts";

export function simulatorFiles(store: SqliteStore | PostgresStore, simulator: string): string[] {
  const rows = store.db.prepare("SELECT file, metadata FROM tensor_files").all() as {
    file: string;
    metadata: string;
  }[];
  const recorded = new Set(rows.map((r) => r.file));
  const files = rows.filter((r) => JSON.parse(r.metadata).simulator === simulator).map((r) =>
    r.file
  );
  for (const entry of Deno.readDirSync(store.tensors.dir)) {
    if (!recorded.has(entry.name)) files.push(entry.name);
  }
  return files;
}
