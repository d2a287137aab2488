// What the rest of the service needs from persistence, implemented on SQLite (sqlite.ts) and on
// PostgreSQL (postgres.ts); routes and the job manager see only these interfaces.
import type { ComputeBackend } from "../gpu/backend.ts";
import type { Safetensors, TensorInput } from "./safetensors.ts";
import type { SqlDatabase } from "./sql/database.ts";
import type { Migration } from "./migrations.ts";
import { DomainError } from "../errors.ts";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINISHED_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

/** What each field means is defined once, in src/jobs/progress.ts. */
export interface JobProgress {
  phase: string;
  /** 0..1 of the whole job; never goes back. */
  fraction: number;
  /** The current phase's progress, `step` of `total`, counted in `unit`. */
  step: number | null;
  total: number | null;
  /** What step and total count, e.g. "steps", "solves", "examples"; null if nothing. */
  unit: string | null;
  /** From the fraction's measured rate over the last few seconds. */
  etaSeconds: number | null;
  /** Measured per second, in `throughputUnit` (the phase's `unit` unless the job names its own). */
  throughput: number | null;
  throughputUnit: string | null;
  message: string | null;
  /** Job-specific figures (a training run's index, step, loss), as numbers. */
  details: Record<string, number> | null;
  /** ISO time of the update. */
  updatedAt: string;
}

export interface JobRecord {
  id: string;
  kind: string;
  status: JobStatus;
  input: unknown;
  progress: JobProgress | null;
  error: string | null;
  result: unknown;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * Where its kernels ran (webgpu or cpu): the backend of the node that started it; null before
   * it starts, or when that node had no usable runtime (work with a CPU path took that path).
   */
  backend: ComputeBackend | null;
}

export type JobPatch = Partial<
  Pick<
    JobRecord,
    "status" | "progress" | "error" | "result" | "startedAt" | "finishedAt" | "backend"
  >
>;

export interface JobListQuery {
  limit: number;
  offset: number;
  status?: JobStatus;
  kind?: string;
}

export interface JobStore {
  create(job: { id: string; kind: string; input: unknown }): JobRecord;
  update(id: string, patch: JobPatch): void;
  get(id: string): JobRecord | null;
  /** Newest first. */
  list(query: JobListQuery): { jobs: JobRecord[]; total: number };
  /** Marks every queued or running job failed with `error`; returns how many. */
  failUnfinished(error: string): number;
}

export interface TensorFileInfo {
  id: string;
  sha256: string;
  bytes: number;
  /** Tensor names in the file. */
  names: string[];
  metadata: Record<string, string>;
  createdAt: string;
}

export interface TensorStore {
  /** Writes a safetensors file atomically (temp name, fsync, rename) and records its checksum. */
  put(
    tensors: Record<string, TensorInput>,
    metadata?: Record<string, string>,
  ): Promise<TensorFileInfo>;
  /** Stores an already encoded file (e.g. an upload) after validating it. */
  putEncoded(bytes: Uint8Array): Promise<TensorFileInfo>;
  info(id: string): TensorFileInfo | null;
  /** Reads and checksum-verifies a file; throws TensorCorruptError on mismatch. */
  get(id: string): Promise<Safetensors>;
  /** The file's bytes as stored, checksum-verified like `get`. */
  bytes(id: string): Promise<Uint8Array>;
  delete(id: string): Promise<boolean>;
}

export interface Store {
  readonly dataDir: string;
  readonly jobs: JobStore;
  readonly tensors: TensorStore;
  /** A capability's store, registered at open (throws UnregisteredStoreModuleError otherwise). */
  get<T>(module: StoreModule<T>): T;
  /** Runs `fn` atomically; nested calls become savepoints. `fn` must be synchronous. */
  transaction<T>(fn: () => T): T;
  /** null when healthy, otherwise why not. */
  problem(): string | null;
  close(): void;
}

/** Stored data no longer matches its checksum: a server-side fault, never the client's. */
export class DataCorruptError extends DomainError {
  override name = "DataCorruptError";
  declare readonly details: Record<string, unknown>;
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("corrupt", "data_corrupt", message, details);
  }
}

// ---- capability modules ----------------------------------------------------------------------
// A capability plugs its persistence into the store as a named module with its own migrations
// (versioned per module) and a factory for its typed store. The store core knows no module; the
// service registers them at open (src/store_modules.ts) and code reaches one by `store.get(MODULE)`.

/** What a module's store is built from. */
export interface StoreContext {
  db: SqlDatabase;
  tensors: TensorStore;
  dataDir: string;
  /** Runs `fn` atomically; nested calls become savepoints. `fn` must be synchronous. */
  transaction<T>(fn: () => T): T;
}

export interface StoreModule<T> {
  /** Unique module name; its migrations are versioned under it. */
  readonly name: string;
  /** Applied in order, once each; append, never edit. */
  readonly migrations: readonly Migration[];
  /**
   * The same schema in PostgreSQL's dialect, its own list (it starts from the schema SQLite had
   * reached when PostgreSQL came). A module without it cannot open on PostgreSQL.
   */
  readonly postgresMigrations?: readonly Migration[];
  open(context: StoreContext): T;
  /** Recovery at open, e.g. marking work that a dead process left unfinished. */
  recover?(store: T): void;
}

export function defineStoreModule<T>(module: StoreModule<T>): StoreModule<T> {
  return module;
}

export class UnregisteredStoreModuleError extends Error {
  override name = "UnregisteredStoreModuleError";
  constructor(module: string) {
    super(`store module "${module}" was not registered when the store was opened`);
  }
}
