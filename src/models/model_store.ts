// Models in SQLite: config, tokenizer (kind, and tokenizer.json text for Hugging Face ones) and
// the id of the checksummed safetensors file holding the weights under HF names.
import type { SqlDatabase } from "../store/sql/database.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { parameterCount } from "../gpt2/config.ts";
import { type ParamSet, saveParams } from "../gpt2/params.ts";
import { ConflictError } from "../errors.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";
import type { TensorStore } from "../store/store.ts";
import { adoptUniqueNames } from "../store/unique_names.ts";

const MODEL_MIGRATIONS: readonly Migration[] = [
  {
    name: "models",
    up(db) {
      db.exec(`
        CREATE TABLE models (
          id TEXT PRIMARY KEY,
          name TEXT,
          config TEXT NOT NULL,
          tokenizer_kind TEXT NOT NULL CHECK (tokenizer_kind IN ('byte', 'huggingface')),
          tokenizer_json TEXT,
          params_tensor TEXT NOT NULL,
          parameters INTEGER NOT NULL,
          source TEXT NOT NULL,
          seed INTEGER,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX models_created ON models (created_at);
      `);
    },
  },
  {
    // Models are addressed by name too, so names (when given) become unique; duplicates stored
    // before this keep their ids and get a suffix (`-2`, …), oldest first.
    name: "models_unique_names",
    up(db) {
      adoptUniqueNames(db, "models", { index: "models_name", orderBy: "created_at, id" });
    },
  },
];

export type TokenizerKind = "byte" | "huggingface";

export interface ModelRecord {
  id: string;
  name: string | null;
  config: Gpt2Config;
  tokenizer: TokenizerKind;
  parameters: number;
  /** "init" (random GPT-2 initialisation) or "upload" (a checkpoint). */
  source: "init" | "upload";
  seed: number | null;
  /** The tensor file holding the weights. */
  paramsTensor: string;
  createdAt: string;
}

export interface StoredModelRow {
  record: ModelRecord;
  /** tokenizer.json text for "huggingface" tokenizers. */
  tokenizerJson: string | null;
}

interface ModelRow {
  id: string;
  name: string | null;
  config: string;
  tokenizer_kind: TokenizerKind;
  tokenizer_json: string | null;
  params_tensor: string;
  parameters: number;
  source: "init" | "upload";
  seed: number | null;
  created_at: number;
}

function toRecord(row: ModelRow): ModelRecord {
  return {
    id: row.id,
    name: row.name,
    config: JSON.parse(row.config),
    tokenizer: row.tokenizer_kind,
    parameters: row.parameters,
    source: row.source,
    seed: row.seed,
    paramsTensor: row.params_tensor,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export interface NewModel {
  name: string | null;
  params: ParamSet;
  tokenizer: { kind: TokenizerKind; json: string | null };
  source: "init" | "upload";
  seed: number | null;
}

export interface ModelStoreDeps {
  db: SqlDatabase;
  tensors: TensorStore;
}

export class ModelStore {
  constructor(private readonly deps: ModelStoreDeps) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  /** Writes the weights (F32, HF names, config in the metadata), then the row. */
  async create(model: NewModel): Promise<ModelRecord> {
    this.checkNameFree(model.name);
    const file = await this.deps.tensors.putEncoded(saveParams(model.params));
    const id = crypto.randomUUID();
    try {
      this.db.prepare(
        `INSERT INTO models (id, name, config, tokenizer_kind, tokenizer_json, params_tensor,
           parameters, source, seed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        model.name,
        JSON.stringify(model.params.config),
        model.tokenizer.kind,
        model.tokenizer.json,
        file.id,
        parameterCount(model.params.config),
        model.source,
        model.seed,
        Date.now(),
      );
    } catch (e) {
      await this.deps.tensors.delete(file.id);
      // The weights took a while to write: another upload may have taken the name meanwhile.
      this.checkNameFree(model.name);
      throw e;
    }
    return this.get(id)!;
  }

  private checkNameFree(name: string | null): void {
    if (name === null) return;
    const existing = this.db.prepare("SELECT id FROM models WHERE name = ?").get(name) as
      | { id: string }
      | undefined;
    if (existing) {
      throw new ConflictError(`a model named "${name}" exists already`, {
        field: "name",
        existing: existing.id,
      }, "name_taken");
    }
  }

  /** By id, else by name. */
  get(idOrName: string): ModelRecord | null {
    return this.row(idOrName)?.record ?? null;
  }

  /** By id, else by name. */
  row(idOrName: string): StoredModelRow | null {
    const row = this.db.prepare(
      "SELECT * FROM models WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1",
    ).get(idOrName, idOrName, idOrName) as ModelRow | undefined;
    return row ? { record: toRecord(row), tokenizerJson: row.tokenizer_json } : null;
  }

  /** Oldest first. */
  list(query: { limit: number; offset: number }): { models: ModelRecord[]; total: number } {
    const rows = this.db.prepare(
      "SELECT * FROM models ORDER BY created_at, id LIMIT ? OFFSET ?",
    ).all(query.limit, query.offset) as unknown[];
    const { n } = this.db.prepare("SELECT COUNT(*) AS n FROM models").get() as { n: number };
    return { models: (rows as ModelRow[]).map(toRecord), total: n };
  }

  /** Deletes the row and its weights file. */
  async delete(idOrName: string): Promise<boolean> {
    const row = this.row(idOrName);
    if (!row) return false;
    this.db.prepare("DELETE FROM models WHERE id = ?").run(row.record.id);
    await this.deps.tensors.delete(row.record.paramsTensor);
    return true;
  }
}

/** Stored models: configs, weights files and tokenizers. */
/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const MODEL_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE models (
          id TEXT PRIMARY KEY,
          name TEXT,
          config TEXT NOT NULL,
          tokenizer_kind TEXT NOT NULL CHECK (tokenizer_kind IN ('byte', 'huggingface')),
          tokenizer_json TEXT,
          params_tensor TEXT NOT NULL,
          parameters BIGINT NOT NULL,
          source TEXT NOT NULL,
          seed BIGINT,
          created_at BIGINT NOT NULL
        );
        CREATE INDEX models_created ON models (created_at);
        CREATE UNIQUE INDEX models_name ON models (name);
      `);
    },
  },
];

export const MODELS = defineStoreModule({
  name: "models",
  migrations: MODEL_MIGRATIONS,
  postgresMigrations: MODEL_POSTGRES_MIGRATIONS,
  open: (context) => new ModelStore(context),
});
