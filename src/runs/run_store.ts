// Runs and studies in SQLite; each run's loss matrix is a checksummed safetensors file.
//
// A study's test examples are fixed by its first run. A later run must list the same set (in any
// order: its loss columns are reordered to the study's order), otherwise it is a 409.

import type { SqlDatabase } from "../store/sql/database.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { Migration } from "../store/migrations.ts";
import { defineStoreModule } from "../store/store.ts";
import { toFloat32 } from "../store/safetensors.ts";
import type { TensorStore } from "../store/store.ts";
import { parseRecipe, type TrainingRecipe } from "../training/recipe.ts";
import {
  checkRunLimits,
  listSome,
  type RunInput,
  type RunShape,
  runShape,
  type RunStep,
} from "./run_input.ts";
import { checkStudyTrainIds, DEFAULT_RUN_LIMITS, type RunLimits } from "./run_limits.ts";

const RUN_MIGRATIONS: readonly Migration[] = [
  {
    name: "studies_and_runs",
    up(db) {
      db.exec(`
        CREATE TABLE studies (
          id TEXT PRIMARY KEY,
          test_examples TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL REFERENCES studies (id),
          name TEXT NOT NULL,
          steps INTEGER NOT NULL,
          test_examples INTEGER NOT NULL,
          distinct_train INTEGER NOT NULL,
          curriculum TEXT NOT NULL,
          losses_tensor TEXT NOT NULL,
          source TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          UNIQUE (study, name)
        );
        CREATE INDEX runs_study ON runs (study, created_at);
      `);
    },
  },
];

/**
 * Checkpoints of recorded runs (weights every N steps, for TracIn), owned by their run: stored
 * with it in one transaction and deleted with it.
 */
const RUN_CHECKPOINT_MIGRATIONS: readonly Migration[] = [
  {
    name: "run_checkpoints",
    up(db) {
      db.exec(`
        CREATE TABLE run_checkpoints (
          run TEXT NOT NULL REFERENCES runs (id),
          step INTEGER NOT NULL,
          tensor TEXT NOT NULL,
          PRIMARY KEY (run, step)
        );
      `);
    },
  },
];

/**
 * Provenance of recorded runs: the model they were fine-tuned from and the dataset their training
 * examples come from (TracIn needs both). Null for uploaded runs and runs stored before this.
 */
const RUN_PROVENANCE_MIGRATIONS: readonly Migration[] = [
  {
    name: "run_provenance",
    up(db) {
      db.exec(`
        ALTER TABLE runs ADD COLUMN model TEXT;
        ALTER TABLE runs ADD COLUMN dataset TEXT;
      `);
    },
  },
];

/**
 * How a recorded run can be replayed (src/training/recipe.ts): the optimiser, batch shapes and
 * seed, as JSON. Null for uploaded runs and runs recorded before data weights existed.
 */
const RUN_RECIPE_MIGRATIONS: readonly Migration[] = [
  {
    name: "run_training_recipe",
    up(db) {
      db.exec(`ALTER TABLE runs ADD COLUMN training TEXT;`);
    },
  },
];

/** Where a recorded run came from; all null for uploaded runs. */
export interface RunProvenance {
  model: string | null;
  dataset: string | null;
  /** Absent or null: the run cannot be replayed. */
  training?: TrainingRecipe | null;
}

/** A checkpoint: the weights after `step` (1-based), a safetensors file with HF GPT-2 names. */
export interface RunCheckpoint {
  step: number;
  tensor: string;
}

export interface RunRecord extends RunShape {
  id: string;
  study: string;
  name: string;
  source: string;
  /** The model and dataset a recorded run came from (null for uploads). */
  model: string | null;
  dataset: string | null;
  /** Whether the run stores what a replay needs (metagradients, mask runs over it). */
  replayable: boolean;
  createdAt: string;
}

export interface StoredRun extends RunRecord {
  run: RunInput;
}

interface RunRow {
  id: string;
  study: string;
  name: string;
  steps: number;
  test_examples: number;
  distinct_train: number;
  curriculum: string;
  losses_tensor: string;
  source: string;
  created_at: number;
  model: string | null;
  dataset: string | null;
  training: string | null;
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    study: row.study,
    name: row.name,
    steps: row.steps,
    testExamples: row.test_examples,
    distinctTrainExamples: row.distinct_train,
    source: row.source,
    model: row.model,
    dataset: row.dataset,
    replayable: parseRecipe(row.training) !== null,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

export interface RunStoreDeps {
  db: SqlDatabase;
  tensors: TensorStore;
  transaction<T>(fn: () => T): T;
}

/** A study: the runs sharing one set of test examples, and the simulators fitted on them. */
export interface StudySummary {
  name: string;
  testExamples: string[];
  runs: number;
  simulators: number;
  createdAt: string;
  /** When its last run was stored (its creation when it has none). */
  updatedAt: string;
}

interface StudyRow {
  id: string;
  test_examples: string;
  created_at: number;
  runs: number;
  simulators: number;
  last_run: number | null;
}

// Simulators are another module's table; a study's count of them is read here all the same, as
// delete() below already does, so that a list of studies is one query.
const STUDY_SELECT = `SELECT s.id, s.test_examples, s.created_at,
    (SELECT COUNT(*) FROM runs r WHERE r.study = s.id) AS runs,
    (SELECT COUNT(*) FROM simulators m WHERE m.study = s.id) AS simulators,
    (SELECT MAX(r.created_at) FROM runs r WHERE r.study = s.id) AS last_run
  FROM studies s`;

function toStudy(row: StudyRow): StudySummary {
  return {
    name: row.id,
    testExamples: JSON.parse(row.test_examples),
    runs: row.runs,
    simulators: row.simulators,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.last_run ?? row.created_at).toISOString(),
  };
}

export class RunStore {
  /** What every stored run (uploaded or recorded) keeps to; the service sets its configuration. */
  limits: RunLimits = DEFAULT_RUN_LIMITS;

  constructor(private readonly deps: RunStoreDeps) {}

  private get db(): SqlDatabase {
    return this.deps.db;
  }

  studyTestExamples(study: string): string[] | null {
    const row = this.db.prepare("SELECT test_examples FROM studies WHERE id = ?").get(study) as
      | { test_examples: string }
      | undefined;
    return row ? JSON.parse(row.test_examples) : null;
  }

  /** Puts a run's loss columns into the study's order; 409 when the sets differ. */
  private alignToStudy(run: RunInput): RunInput {
    const studyIds = this.studyTestExamples(run.study);
    if (!studyIds) return run;
    const runIds = new Set(run.testExamples);
    const missing = studyIds.filter((id) => !runIds.has(id));
    const studySet = new Set(studyIds);
    const extra = run.testExamples.filter((id) => !studySet.has(id));
    if (missing.length > 0 || extra.length > 0) {
      throw new ConflictError(
        `the run's test examples differ from study "${run.study}"'s`,
        { field: "testExamples", missing: listSome(missing), unexpected: listSome(extra) },
      );
    }
    if (run.testExamples.every((id, j) => id === studyIds[j])) return run;
    const m = studyIds.length;
    const column = new Map(run.testExamples.map((id, j) => [id, j]));
    const losses = new Float32Array(run.losses.length);
    for (let t = 0; t < run.losses.length / m; t++) {
      studyIds.forEach((id, j) => (losses[t * m + j] = run.losses[t * m + column.get(id)!]));
    }
    return { ...run, testExamples: studyIds, losses };
  }

  private assertNameFree(study: string, name: string): void {
    const taken = this.db.prepare("SELECT id FROM runs WHERE study = ? AND name = ?").get(
      study,
      name,
    ) as { id: string } | undefined;
    if (taken) {
      throw new ConflictError(`study "${study}" already has a run named "${name}"`, {
        field: "name",
        existing: taken.id,
      }, "name_taken");
    }
  }

  /**
   * Stores a validated run, with the checkpoint files already written for it (they become the
   * run's). Nothing is left behind when any step fails; the checkpoint files stay the caller's.
   * `alongside` runs inside the run's transaction (e.g. a job recording that it stored the run),
   * so the run and that record commit together or not at all.
   */
  async create(
    input: RunInput,
    source: string,
    checkpoints: readonly RunCheckpoint[] = [],
    provenance: RunProvenance = { model: null, dataset: null },
    alongside?: (id: string) => void,
  ): Promise<RunRecord> {
    this.assertNameFree(input.study, input.name);
    const runIds = checkRunLimits(input, this.limits);
    const run = this.alignToStudy(input);
    const m = run.testExamples.length;
    const file = await this.deps.tensors.put(
      { losses: { shape: [run.steps.length + 1, m], data: run.losses } },
      { study: run.study, run: run.name },
    );
    const id = crypto.randomUUID();
    const shape = runShape(run);
    try {
      this.deps.transaction(() => {
        // Checked again inside the transaction: another upload may have won meanwhile.
        this.assertNameFree(run.study, run.name);
        this.checkStudyLimit(run.study, runIds);
        if (!this.studyTestExamples(run.study)) {
          this.db.prepare("INSERT INTO studies (id, test_examples, created_at) VALUES (?, ?, ?)")
            .run(run.study, JSON.stringify(run.testExamples), Date.now());
        } else {
          this.alignToStudy(run);
        }
        this.db.prepare(
          `INSERT INTO runs (id, study, name, steps, test_examples, distinct_train, curriculum,
             losses_tensor, source, created_at, model, dataset, training)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          id,
          run.study,
          run.name,
          shape.steps,
          shape.testExamples,
          shape.distinctTrainExamples,
          JSON.stringify(run.steps),
          file.id,
          source,
          Date.now(),
          provenance.model,
          provenance.dataset,
          provenance.training ? JSON.stringify(provenance.training) : null,
        );
        const checkpoint = this.db.prepare(
          "INSERT INTO run_checkpoints (run, step, tensor) VALUES (?, ?, ?)",
        );
        for (const c of checkpoints) checkpoint.run(id, c.step, c.tensor);
        alongside?.(id);
      });
    } catch (e) {
      await this.deps.tensors.delete(file.id);
      throw e;
    }
    return this.get(id)!;
  }

  /**
   * 413 when the study with a new run's ids would pass SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY. The sum
   * of its runs' distinct counts bounds the union from above; only when that bound passes the
   * limit are the stored curricula read for the exact union.
   */
  private checkStudyLimit(study: string, runIds: ReadonlySet<string>): void {
    const limit = this.limits.maxTrainIdsPerStudy;
    const stored = (this.db.prepare(
      "SELECT COALESCE(SUM(distinct_train), 0) AS n FROM runs WHERE study = ?",
    ).get(study) as { n: number }).n;
    if (stored + runIds.size <= limit) return;
    const union = new Set(this.trainIdsOfStudy(study));
    for (const id of runIds) union.add(id);
    checkStudyTrainIds(union.size, this.limits, { field: "steps", study });
  }

  get(id: string): RunRecord | null {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** The run named `name` in `study` (names are unique per study), or null. */
  byName(study: string, name: string): RunRecord | null {
    const row = this.db.prepare("SELECT * FROM runs WHERE study = ? AND name = ?").get(
      study,
      name,
    ) as RunRow | undefined;
    return row ? toRecord(row) : null;
  }

  /**
   * The whole run, losses included; 404 when it does not exist. `parseSteps` reads the stored
   * curriculum (JSON text); a fit passes one that gives the event loop turns on large runs.
   */
  async load(
    id: string,
    parseSteps: (json: string) => RunStep[] | Promise<RunStep[]> = JSON.parse,
  ): Promise<StoredRun> {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    if (!row) throw new NotFoundError(`run ${id}`, { field: "id", id });
    const file = await this.deps.tensors.get(row.losses_tensor);
    const entry = file.tensors.get("losses");
    if (!entry) throw new Error(`run ${id}: its tensor file has no "losses" tensor`);
    const testExamples = this.studyTestExamples(row.study)!;
    return {
      ...toRecord(row),
      run: {
        study: row.study,
        name: row.name,
        testExamples,
        steps: await parseSteps(row.curriculum),
        losses: toFloat32(entry),
      },
    };
  }

  list(query: { study?: string; limit: number; offset: number }): {
    runs: RunRecord[];
    total: number;
  } {
    const where = query.study === undefined ? "" : "WHERE study = ?";
    const args = query.study === undefined ? [] : [query.study];
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM runs ${where}`).get(...args) as {
      n: number;
    }).n;
    const rows = this.db.prepare(
      `SELECT * FROM runs ${where} ORDER BY created_at, id LIMIT ? OFFSET ?`,
    ).all(...args, query.limit, query.offset) as unknown as RunRow[];
    return { runs: rows.map(toRecord), total };
  }

  /** The ids of the study's runs, oldest first (without reading their curricula). */
  runIdsOfStudy(study: string): string[] {
    return (this.db.prepare("SELECT id FROM runs WHERE study = ? ORDER BY created_at, id")
      .all(study) as { id: string }[]).map((row) => row.id);
  }

  /** Every training id that occurs in the study's runs, sorted: the study's training universe. */
  trainIdsOfStudy(study: string): string[] {
    const rows = this.db.prepare("SELECT curriculum FROM runs WHERE study = ?").all(study) as {
      curriculum: string;
    }[];
    const ids = new Set<string>();
    for (const row of rows) {
      for (const step of JSON.parse(row.curriculum) as RunStep[]) {
        for (const id of step.batch) ids.add(id);
      }
    }
    return [...ids].sort();
  }

  /** The model and dataset a recorded run came from; null when the run does not exist. */
  provenance(id: string): RunProvenance | null {
    const row = this.db.prepare("SELECT model, dataset, training FROM runs WHERE id = ?").get(id) as
      | { model: string | null; dataset: string | null; training: string | null }
      | undefined;
    return row
      ? { model: row.model, dataset: row.dataset, training: parseRecipe(row.training) }
      : null;
  }

  /** The run's checkpoints by step; empty for uploaded runs. */
  checkpoints(id: string): RunCheckpoint[] {
    return this.db.prepare(
      "SELECT step, tensor FROM run_checkpoints WHERE run = ? ORDER BY step",
    ).all(id) as unknown as RunCheckpoint[];
  }

  /** Studies oldest first, with their run and simulator counts. */
  listStudies(
    query: { limit: number; offset: number },
  ): { studies: StudySummary[]; total: number } {
    const total = (this.db.prepare("SELECT COUNT(*) AS n FROM studies").get() as { n: number }).n;
    const rows = this.db.prepare(
      `${STUDY_SELECT} ORDER BY s.created_at, s.id LIMIT ? OFFSET ?`,
    ).all(query.limit, query.offset) as unknown as StudyRow[];
    return { studies: rows.map(toStudy), total };
  }

  study(name: string): StudySummary | null {
    const row = this.db.prepare(`${STUDY_SELECT} WHERE s.id = ?`).get(name) as
      | StudyRow
      | undefined;
    return row ? toStudy(row) : null;
  }

  /**
   * Deletes a study: its runs, their checkpoints and the study row in one transaction, together
   * with whatever `alongside` deletes (its simulators), then the files once that has committed.
   * `alongside` returns the tensor files it orphaned. False when there is no such study.
   */
  async deleteStudy(
    study: string,
    alongside: () => string[],
  ): Promise<{ runs: number; files: number } | null> {
    if (!this.study(study)) return null;
    const files = this.deps.transaction(() => {
      const runs = this.db.prepare("SELECT id, losses_tensor FROM runs WHERE study = ?")
        .all(study) as { id: string; losses_tensor: string }[];
      const orphaned = runs.map((r) => r.losses_tensor);
      for (const run of runs) {
        for (const c of this.checkpoints(run.id)) orphaned.push(c.tensor);
        this.db.prepare("DELETE FROM run_checkpoints WHERE run = ?").run(run.id);
      }
      this.db.prepare("DELETE FROM runs WHERE study = ?").run(study);
      this.db.prepare("DELETE FROM studies WHERE id = ?").run(study);
      orphaned.push(...alongside());
      return { runs: runs.length, orphaned };
    });
    for (const file of files.orphaned) await this.deps.tensors.delete(file);
    return { runs: files.runs, files: files.orphaned.length };
  }

  /** Deletes a run and its checkpoints; the study goes with its last run unless simulators use it. */
  async delete(id: string): Promise<boolean> {
    const row = this.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as RunRow | undefined;
    if (!row) return false;
    const checkpoints = this.checkpoints(id);
    this.deps.transaction(() => {
      this.db.prepare("DELETE FROM run_checkpoints WHERE run = ?").run(id);
      this.db.prepare("DELETE FROM runs WHERE id = ?").run(id);
      const left = this.db.prepare("SELECT COUNT(*) AS n FROM runs WHERE study = ?").get(
        row.study,
      ) as { n: number };
      const simulators = this.db.prepare("SELECT COUNT(*) AS n FROM simulators WHERE study = ?")
        .get(row.study) as { n: number };
      if (left.n === 0 && simulators.n === 0) {
        this.db.prepare("DELETE FROM studies WHERE id = ?").run(row.study);
      }
    });
    await this.deps.tensors.delete(row.losses_tensor);
    for (const c of checkpoints) await this.deps.tensors.delete(c.tensor);
    return true;
  }
}

/** The same tables on PostgreSQL, as of today's SQLite migrations; append to both from now on. */
const RUN_POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    name: "postgres_initial",
    up(db) {
      db.exec(`
        CREATE TABLE studies (
          id TEXT PRIMARY KEY,
          test_examples TEXT NOT NULL,
          created_at BIGINT NOT NULL
        );
        CREATE TABLE runs (
          id TEXT PRIMARY KEY,
          study TEXT NOT NULL REFERENCES studies (id),
          name TEXT NOT NULL,
          steps BIGINT NOT NULL,
          test_examples BIGINT NOT NULL,
          distinct_train BIGINT NOT NULL,
          curriculum TEXT NOT NULL,
          losses_tensor TEXT NOT NULL,
          source TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          model TEXT,
          dataset TEXT,
          training TEXT,
          UNIQUE (study, name)
        );
        CREATE INDEX runs_study ON runs (study, created_at);
        CREATE TABLE run_checkpoints (
          run TEXT NOT NULL REFERENCES runs (id),
          step BIGINT NOT NULL,
          tensor TEXT NOT NULL,
          PRIMARY KEY (run, step)
        );
      `);
    },
  },
];

/** Studies, runs and their checkpoints. */
export const RUNS = defineStoreModule({
  name: "runs",
  migrations: [
    ...RUN_MIGRATIONS,
    ...RUN_CHECKPOINT_MIGRATIONS,
    ...RUN_PROVENANCE_MIGRATIONS,
    ...RUN_RECIPE_MIGRATIONS,
  ],
  postgresMigrations: RUN_POSTGRES_MIGRATIONS,
  open: (context) => new RunStore(context),
});
