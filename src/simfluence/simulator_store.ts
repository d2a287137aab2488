// Simulators in SQLite; fitted parameters (A, B, typical and initial losses) are one checksummed
// safetensors file per simulator, written only once a fit has succeeded.

import type { SqlDatabase } from "../store/sql/database.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { SimulatorKind, SimulatorParams } from "./math/types.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";
import { toFloat32 } from "../store/safetensors.ts";
import type { TensorStore } from "../store/store.ts";

/** How many unseen ids a record shows (as many as other `{ids, total}` answers list). */
const UNSEEN_PREVIEW = 20;

const SIMULATOR_MIGRATIONS: readonly Migration[] = [
  {
    name: "simulators",
    up(db) {
      db.exec(`
        CREATE TABLE simulators (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL,
          kind TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('fitting', 'ready', 'failed', 'cancelled')),
          job_id TEXT,
          train_runs TEXT NOT NULL,
          validation_runs TEXT NOT NULL,
          lambda_requested TEXT NOT NULL,
          lambda_factor REAL,
          fit TEXT,
          unseen TEXT,
          train_ids TEXT,
          params_tensor TEXT,
          evaluation TEXT,
          error TEXT,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE INDEX simulators_study ON simulators (study, created_at);
      `);
    },
  },
  {
    // Runs deleted with ?force=true while this simulator was fitted on them: it can no longer be
    // refitted or simulate `fromRun` those runs, and says so.
    name: "simulators_deleted_runs",
    up(db) {
      db.exec("ALTER TABLE simulators ADD COLUMN deleted_runs TEXT");
    },
  },
  {
    // A record carries the count and the first few unseen ids; the whole list (up to a study's
    // training ids) is read only by the paged route, so records stay small whatever the study.
    name: "simulators_unseen_summary",
    up(db) {
      db.exec(`
        ALTER TABLE simulators ADD COLUMN unseen_count INTEGER;
        ALTER TABLE simulators ADD COLUMN unseen_preview TEXT;
        UPDATE simulators SET
          unseen_count = json_array_length(unseen),
          unseen_preview = (SELECT json_group_array(value) FROM
            (SELECT value FROM json_each(simulators.unseen) ORDER BY key LIMIT ${UNSEEN_PREVIEW}))
        WHERE unseen IS NOT NULL;
      `);
    },
  },
];

export type SimulatorStatus = "fitting" | "ready" | "failed" | "cancelled";

export interface SimulatorRecord {
  id: string;
  study: string;
  kind: SimulatorKind;
  status: SimulatorStatus;
  jobId: string | null;
  trainRuns: string[];
  validationRuns: string[];
  lambda: number | "auto" | null;
  /** The ridge factor used (relative to each test example's mean squared design-row norm). */
  lambdaFactor: number | null;
  fit: Record<string, unknown> | null;
  /**
   * Training ids of the study that no fitting run contained (their A = B = 0): the first few and
   * how many; all of them page by page with `unseenPage`.
   */
  unseenTrainExamples: { ids: string[]; total: number };
  /** Fitting runs deleted since (DELETE /v1/runs/{id}?force=true). */
  deletedRuns: string[];
  evaluation: unknown;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A ready simulator's parameters with the ids that name their rows and columns. */
export interface LoadedSimulator {
  record: SimulatorRecord;
  params: SimulatorParams;
  trainIds: string[];
  testIds: string[];
  /** Mean L_0 per test example over the fitting runs: the default start of a simulation. */
  initialLoss: Float32Array;
}

interface SimulatorRow {
  id: string;
  study: string;
  kind: SimulatorKind;
  status: SimulatorStatus;
  job_id: string | null;
  train_runs: string;
  validation_runs: string;
  lambda_requested: string;
  lambda_factor: number | null;
  fit: string | null;
  unseen_count: number | null;
  unseen_preview: string | null;
  params_tensor: string | null;
  evaluation: string | null;
  error: string | null;
  deleted_runs: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * The columns a record is made of: not `unseen` and `train_ids`, which hold up to a study's
 * training ids each and are read only where they are needed.
 */
const RECORD_COLUMNS = `id, study, kind, status, job_id, train_runs, validation_runs,
  lambda_requested, lambda_factor, fit, unseen_count, unseen_preview, params_tensor, evaluation,
  error, deleted_runs, created_at, updated_at`;

const parse = <T>(
  text: string | null,
  fallback: T,
): T => (text === null ? fallback : JSON.parse(text));

function toRecord(row: SimulatorRow): SimulatorRecord {
  return {
    id: row.id,
    study: row.study,
    kind: row.kind,
    status: row.status,
    jobId: row.job_id,
    trainRuns: JSON.parse(row.train_runs),
    validationRuns: JSON.parse(row.validation_runs),
    lambda: JSON.parse(row.lambda_requested),
    lambdaFactor: row.lambda_factor,
    fit: parse(row.fit, null),
    unseenTrainExamples: {
      ids: parse(row.unseen_preview, []),
      total: row.unseen_count ?? 0,
    },
    deletedRuns: parse(row.deleted_runs, []),
    evaluation: parse(row.evaluation, null),
    error: row.error,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export interface SimulatorStoreDeps {
  db: SqlDatabase;
  tensors: TensorStore;
}

export interface FittedSimulator {
  params: SimulatorParams;
  trainIds: string[];
  initialLoss: Float32Array;
  fit: Record<string, unknown>;
}

export class SimulatorStore {
  /** Parameters of recently used simulators, so simulations start without a file read. */
  private cache = new Map<string, LoadedSimulator>();
  private static readonly CACHE_SIZE = 8;

  constructor(private readonly deps: SimulatorStoreDeps) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  create(spec: {
    study: string;
    kind: SimulatorKind;
    trainRuns: string[];
    validationRuns: string[];
    lambda: number | "auto" | null;
  }): SimulatorRecord {
    const id = crypto.randomUUID();
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO simulators (id, study, kind, status, train_runs, validation_runs,
         lambda_requested, created_at, updated_at) VALUES (?, ?, ?, 'fitting', ?, ?, ?, ?, ?)`,
    ).run(
      id,
      spec.study,
      spec.kind,
      JSON.stringify(spec.trainRuns),
      JSON.stringify(spec.validationRuns),
      JSON.stringify(spec.lambda),
      now,
      now,
    );
    return this.get(id)!;
  }

  setJob(id: string, jobId: string): void {
    this.db.prepare("UPDATE simulators SET job_id = ?, updated_at = ? WHERE id = ?").run(
      jobId,
      Date.now(),
      id,
    );
  }

  get(id: string): SimulatorRecord | null {
    const row = this.db.prepare(`SELECT ${RECORD_COLUMNS} FROM simulators WHERE id = ?`).get(id) as
      | SimulatorRow
      | undefined;
    return row ? toRecord(row) : null;
  }

  require(id: string): SimulatorRecord {
    const record = this.get(id);
    if (!record) throw new NotFoundError(`simulator ${id}`, { field: "id", id });
    return record;
  }

  list(query: { study?: string; limit: number; offset: number }) {
    const where = query.study === undefined ? "" : "WHERE study = ?";
    const args = query.study === undefined ? [] : [query.study];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM simulators ${where}`).get(
      ...args,
    ) as { n: number }).n;
    const rows = this.db.prepare(
      `SELECT ${RECORD_COLUMNS} FROM simulators ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`,
    ).all(...args, query.limit, query.offset) as unknown as SimulatorRow[];
    return { simulators: rows.map(toRecord), total };
  }

  /**
   * Writes the parameters file, then marks the simulator ready — only if it is still fitting: a
   * fit that ends after its simulator was deleted or cancelled must neither leave a file behind
   * nor flip it to ready. Returns whether it was marked; when not (or on failure), the file it
   * wrote is deleted again.
   */
  async markReady(id: string, fitted: FittedSimulator, testIds: string[]): Promise<boolean> {
    const { params } = fitted;
    const file = await this.deps.tensors.put({
      A: { shape: [params.n, params.m], data: params.A },
      B: { shape: [params.n, params.m], data: params.B },
      meanLoss: { shape: [params.m], data: params.meanLoss },
      initialLoss: { shape: [params.m], data: fitted.initialLoss },
    }, { simulator: id, kind: params.kind });
    let marked = false;
    try {
      marked = this.setReady(id, fitted, testIds, file.id);
    } finally {
      if (!marked) await this.deps.tensors.delete(file.id);
    }
    return marked;
  }

  /** One conditional UPDATE: the status check and the change cannot be split by a delete. */
  private setReady(id: string, fitted: FittedSimulator, testIds: string[], file: string): boolean {
    const { params } = fitted;
    const unseen = params.unseen.map((i) => fitted.trainIds[i]);
    const result = this.db.prepare(
      `UPDATE simulators SET status = 'ready', lambda_factor = ?, fit = ?, unseen = ?,
         unseen_count = ?, unseen_preview = ?, train_ids = ?, params_tensor = ?, updated_at = ?
       WHERE id = ? AND status = 'fitting'`,
    ).run(
      params.lambdaFactor,
      JSON.stringify({
        ...fitted.fit,
        scoreScale: params.scoreScale,
        testExamples: testIds.length,
      }),
      JSON.stringify(unseen),
      unseen.length,
      JSON.stringify(unseen.slice(0, UNSEEN_PREVIEW)),
      JSON.stringify(fitted.trainIds),
      file,
      Date.now(),
      id,
    );
    return Number(result.changes) === 1;
  }

  markFinished(id: string, status: "failed" | "cancelled", error: string | null): void {
    this.db.prepare(
      "UPDATE simulators SET status = ?, error = ?, updated_at = ? WHERE id = ? AND status = 'fitting'",
    ).run(status, error, Date.now(), id);
  }

  /** Simulators a dead process left fitting can never finish. */
  failUnfinished(): number {
    const result = this.db.prepare(
      "UPDATE simulators SET status = 'failed', error = 'interrupted', updated_at = ? WHERE status = 'fitting'",
    ).run(Date.now());
    return Number(result.changes);
  }

  setEvaluation(id: string, evaluation: unknown): void {
    this.db.prepare("UPDATE simulators SET evaluation = ?, updated_at = ? WHERE id = ?").run(
      JSON.stringify(evaluation),
      Date.now(),
      id,
    );
  }

  /** A ready simulator with its parameters; 409 while it is not ready. */
  async load(id: string, testIds: string[]): Promise<LoadedSimulator> {
    const record = this.require(id);
    if (record.status !== "ready") {
      throw new ConflictError(`simulator ${id} is ${record.status}, not ready`, {
        field: "id",
        status: record.status,
      });
    }
    const cached = this.cache.get(id);
    if (cached) {
      cached.record = record;
      return cached;
    }
    const row = this.db.prepare(
      "SELECT params_tensor, train_ids, unseen FROM simulators WHERE id = ?",
    ).get(id) as { params_tensor: string; train_ids: string; unseen: string | null };
    const file = await this.deps.tensors.get(row.params_tensor);
    const tensor = (name: string) => {
      const entry = file.tensors.get(name);
      if (!entry) throw new Error(`simulator ${id}: parameters file lacks "${name}"`);
      return toFloat32(entry);
    };
    const trainIds = JSON.parse(row.train_ids) as string[];
    const index = new Map(trainIds.map((t, i) => [t, i]));
    const loaded: LoadedSimulator = {
      record,
      trainIds,
      testIds,
      initialLoss: tensor("initialLoss"),
      params: {
        kind: record.kind,
        n: trainIds.length,
        m: testIds.length,
        A: tensor("A"),
        B: tensor("B"),
        meanLoss: tensor("meanLoss"),
        unseen: parse<string[]>(row.unseen, []).map((t) => index.get(t)!),
        lambdaFactor: record.lambdaFactor,
        scoreScale: (record.fit?.scoreScale as number | null) ?? null,
      },
    };
    this.cache.set(id, loaded);
    if (this.cache.size > SimulatorStore.CACHE_SIZE) {
      this.cache.delete(this.cache.keys().next().value as string);
    }
    return loaded;
  }

  /**
   * A page of the simulator's unseen training ids, in the study's order; none while it is not
   * ready. The database walks the stored list, so no page builds the whole list in JavaScript.
   */
  unseenPage(id: string, query: { limit: number; offset: number }): {
    unseenTrainExamples: string[];
    total: number;
  } {
    const record = this.require(id);
    const sql = this.db.dialect === "postgres"
      ? `SELECT j.value AS id FROM simulators s,
           jsonb_array_elements_text(s.unseen::jsonb) WITH ORDINALITY j(value, key)
         WHERE s.id = ? ORDER BY j.key LIMIT ? OFFSET ?`
      : `SELECT j.value AS id FROM simulators s, json_each(s.unseen) j WHERE s.id = ?
         ORDER BY j.key LIMIT ? OFFSET ?`;
    const rows = this.db.prepare(sql).all(id, query.limit, query.offset) as { id: string }[];
    return {
      unseenTrainExamples: rows.map((r) => r.id),
      total: record.unseenTrainExamples.total,
    };
  }

  /** Simulators fitted (training or validation) on the run. */
  usingRun(runId: string): SimulatorRecord[] {
    // The run lists are JSON arrays of ids; LIKE narrows, the exact check decides.
    const rows = this.db.prepare(
      `SELECT ${RECORD_COLUMNS} FROM simulators WHERE train_runs LIKE ? OR validation_runs LIKE ?
       ORDER BY created_at, id`,
    ).all(`%${JSON.stringify(runId)}%`, `%${JSON.stringify(runId)}%`) as unknown as SimulatorRow[];
    return rows.map(toRecord).filter((s) =>
      s.trainRuns.includes(runId) || s.validationRuns.includes(runId)
    );
  }

  /** Records that the simulator's fitting run `runId` is gone. */
  markRunDeleted(id: string, runId: string): void {
    const record = this.get(id);
    if (!record || record.deletedRuns.includes(runId)) return;
    this.db.prepare("UPDATE simulators SET deleted_runs = ?, updated_at = ? WHERE id = ?").run(
      JSON.stringify([...record.deletedRuns, runId]),
      Date.now(),
      id,
    );
  }

  /**
   * Deletes the study's simulator rows, inside the caller's transaction (a study's delete); the
   * parameter files to delete once it has committed.
   */
  deleteRowsOfStudy(study: string): string[] {
    const rows = this.db.prepare("SELECT id, params_tensor FROM simulators WHERE study = ?")
      .all(study) as { id: string; params_tensor: string | null }[];
    this.db.prepare("DELETE FROM simulators WHERE study = ?").run(study);
    for (const row of rows) this.cache.delete(row.id);
    return rows.flatMap((row) => row.params_tensor ? [row.params_tensor] : []);
  }

  /** Deletes a simulator and its parameters; false when it does not exist. */
  async delete(id: string): Promise<boolean> {
    const row = this.db.prepare("SELECT params_tensor FROM simulators WHERE id = ?").get(id) as
      | { params_tensor: string | null }
      | undefined;
    if (!row) return false;
    this.db.prepare("DELETE FROM simulators WHERE id = ?").run(id);
    this.cache.delete(id);
    if (row.params_tensor) await this.deps.tensors.delete(row.params_tensor);
    return true;
  }
}

/** Fitted simulators and their parameter files. */
/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const SIMULATOR_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE simulators (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL,
          kind TEXT NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('fitting', 'ready', 'failed', 'cancelled')),
          job_id TEXT,
          train_runs TEXT NOT NULL,
          validation_runs TEXT NOT NULL,
          lambda_requested TEXT NOT NULL,
          lambda_factor DOUBLE PRECISION,
          fit TEXT,
          unseen TEXT,
          train_ids TEXT,
          params_tensor TEXT,
          evaluation TEXT,
          error TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          deleted_runs TEXT,
          unseen_count BIGINT,
          unseen_preview TEXT
        );
        CREATE INDEX simulators_study ON simulators (study, created_at);
      `);
    },
  },
];

export const SIMULATORS = defineStoreModule({
  name: "simulators",
  migrations: SIMULATOR_MIGRATIONS,
  postgresMigrations: SIMULATOR_POSTGRES_MIGRATIONS,
  open: (context) => new SimulatorStore(context),
  recover: (store) => void store.failUnfinished(),
});
