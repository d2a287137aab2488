// Uploaded datasets in SQLite: one row per dataset, one per example (in upload order), written in
// one transaction so a failed upload leaves nothing behind.
import type { SqlDatabase } from "../store/sql/database.ts";
import { ConflictError, InvalidInputError } from "../errors.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";
import { adoptUniqueNames } from "../store/unique_names.ts";
import { type DatasetExample, isPromptCompletion } from "./example.ts";

const DATASET_MIGRATIONS: readonly Migration[] = [
  {
    name: "datasets",
    up(db) {
      db.exec(`
        CREATE TABLE datasets (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          examples INTEGER NOT NULL,
          format TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE dataset_examples (
          dataset TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
          position INTEGER NOT NULL,
          id TEXT NOT NULL,
          text TEXT,
          prompt TEXT,
          completion TEXT,
          PRIMARY KEY (dataset, id),
          UNIQUE (dataset, position)
        );
      `);
    },
  },
  {
    // Datasets are addressed by name too (GET /v1/datasets/<name>), so names become unique;
    // duplicates stored before this keep their ids and get a suffix (`-2`, …), oldest first.
    name: "datasets_unique_names",
    up(db) {
      adoptUniqueNames(db, "datasets", { index: "datasets_name", orderBy: "created_at, id" });
    },
  },
];

export type DatasetFormat = "text" | "prompt_completion" | "mixed";

export interface DatasetRecord {
  id: string;
  name: string;
  source: "uploaded" | "builtin";
  examples: number;
  format: DatasetFormat;
  description: string | null;
  /** null for built-ins, which are generated in code. */
  createdAt: string | null;
}

interface DatasetRow {
  id: string;
  name: string;
  examples: number;
  format: DatasetFormat;
  created_at: number;
}

interface ExampleRow {
  id: string;
  text: string | null;
  prompt: string | null;
  completion: string | null;
}

export function formatOf(examples: readonly DatasetExample[]): DatasetFormat {
  const prompts = examples.filter(isPromptCompletion).length;
  return prompts === 0 ? "text" : prompts === examples.length ? "prompt_completion" : "mixed";
}

function toRecord(row: DatasetRow): DatasetRecord {
  return {
    id: row.id,
    name: row.name,
    source: "uploaded",
    examples: row.examples,
    format: row.format,
    description: null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

function toExample(row: ExampleRow): DatasetExample {
  return row.text !== null
    ? { id: row.id, text: row.text }
    : { id: row.id, prompt: row.prompt ?? "", completion: row.completion ?? "" };
}

export interface DatasetStoreDeps {
  db: SqlDatabase;
  transaction<T>(fn: () => T): T;
}

export class DatasetStore {
  constructor(private readonly deps: DatasetStoreDeps) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  /** Stores validated examples (unique ids, at least one); a name already used is a conflict. */
  create(name: string, examples: readonly DatasetExample[]): DatasetRecord {
    const id = crypto.randomUUID();
    this.deps.transaction(() => {
      if (name.startsWith("builtin:")) {
        throw new InvalidInputError('dataset names starting "builtin:" are reserved', {
          field: "name",
        });
      }
      const existing = this.byName(name);
      if (existing) {
        throw new ConflictError(`a dataset named "${name}" exists already`, {
          field: "name",
          existing: existing.id,
        }, "name_taken");
      }
      this.db.prepare(
        "INSERT INTO datasets (id, name, examples, format, created_at) VALUES (?, ?, ?, ?, ?)",
      ).run(id, name, examples.length, formatOf(examples), Date.now());
      const insert = this.db.prepare(
        `INSERT INTO dataset_examples (dataset, position, id, text, prompt, completion)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      examples.forEach((e, position) => {
        if (isPromptCompletion(e)) insert.run(id, position, e.id, null, e.prompt, e.completion);
        else insert.run(id, position, e.id, e.text, null, null);
      });
    });
    return this.get(id)!;
  }

  /** By id, else by name. */
  get(idOrName: string): DatasetRecord | null {
    const row = this.db.prepare("SELECT * FROM datasets WHERE id = ?").get(idOrName) as
      | DatasetRow
      | undefined;
    return row ? toRecord(row) : this.byName(idOrName);
  }

  private byName(name: string): DatasetRecord | null {
    const row = this.db.prepare("SELECT * FROM datasets WHERE name = ?").get(name) as
      | DatasetRow
      | undefined;
    return row ? toRecord(row) : null;
  }

  /** Oldest first, `limit` from `offset` (all by default). */
  list(offset = 0, limit = Number.MAX_SAFE_INTEGER): DatasetRecord[] {
    const rows = this.db.prepare("SELECT * FROM datasets ORDER BY created_at, id LIMIT ? OFFSET ?")
      .all(limit, offset) as unknown[];
    return (rows as DatasetRow[]).map(toRecord);
  }

  count(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM datasets").get() as { n: number }).n;
  }

  /** Examples in upload order, `limit` from `offset`. */
  page(idOrName: string, offset: number, limit: number): DatasetExample[] {
    const id = this.get(idOrName)?.id ?? idOrName;
    const rows = this.db.prepare(
      `SELECT id, text, prompt, completion FROM dataset_examples WHERE dataset = ?
       ORDER BY position LIMIT ? OFFSET ?`,
    ).all(id, limit, offset) as unknown[];
    return (rows as ExampleRow[]).map(toExample);
  }

  all(id: string): DatasetExample[] {
    // Not LIMIT -1: PostgreSQL refuses a negative limit.
    return this.page(id, 0, Number.MAX_SAFE_INTEGER);
  }

  delete(idOrName: string): boolean {
    const id = this.get(idOrName)?.id;
    if (id === undefined) return false;
    return this.deps.transaction(() => {
      this.db.prepare("DELETE FROM dataset_examples WHERE dataset = ?").run(id);
      return this.db.prepare("DELETE FROM datasets WHERE id = ?").run(id).changes > 0;
    });
  }
}

/** Uploaded datasets of training examples. */
/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const DATASET_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE datasets (
          id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          examples BIGINT NOT NULL,
          format TEXT NOT NULL,
          created_at BIGINT NOT NULL
        );
        CREATE UNIQUE INDEX datasets_name ON datasets (name);
        CREATE TABLE dataset_examples (
          dataset TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
          position BIGINT NOT NULL,
          id TEXT NOT NULL,
          text TEXT,
          prompt TEXT,
          completion TEXT,
          PRIMARY KEY (dataset, id),
          UNIQUE (dataset, position)
        );
      `);
    },
  },
];

export const DATASETS = defineStoreModule({
  name: "datasets",
  migrations: DATASET_MIGRATIONS,
  postgresMigrations: DATASET_POSTGRES_MIGRATIONS,
  open: (context) => new DatasetStore(context),
});
