// What the rest of the service needs from persistence. The SQLite implementation is in sqlite.ts;
// the interfaces keep routes and the job manager independent of it (e.g. for a Postgres port).
import type { Safetensors, TensorInput } from "./safetensors.ts";
import type { RunStore } from "../runs/run_store.ts";
import type { SimulatorStore } from "../simfluence/simulator_store.ts";
import type { DatasetStore } from "../datasets/dataset_store.ts";
import type { ModelStore } from "../models/model_store.ts";

export const JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINISHED_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "cancelled"];

export interface JobProgress {
  phase: string;
  /** 0..1 */
  fraction: number;
  step: number | null;
  total: number | null;
  etaSeconds: number | null;
  /** Per second, in `throughputUnit`: steps of the phase unless the handler names its own unit. */
  throughput: number | null;
  /** What `throughput` counts: "steps", "fraction", or the handler's unit (e.g. "tokens"). */
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
}

export type JobPatch = Partial<
  Pick<JobRecord, "status" | "progress" | "error" | "result" | "startedAt" | "finishedAt">
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
  readonly runs: RunStore;
  readonly simulators: SimulatorStore;
  readonly datasets: DatasetStore;
  readonly models: ModelStore;
  /** Runs `fn` atomically; nested calls become savepoints. `fn` must be synchronous. */
  transaction<T>(fn: () => T): T;
  /** null when healthy, otherwise why not. */
  problem(): string | null;
  close(): void;
}

export class NotFoundError extends Error {
  override name = "NotFoundError";
  readonly httpStatus = 404;
  readonly code = "not_found";
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** Stored data no longer matches its checksum: a server-side fault, never the client's. */
export class DataCorruptError extends Error {
  override name = "DataCorruptError";
  readonly httpStatus = 500;
  readonly code = "data_corrupt";
  constructor(message: string, readonly details: Record<string, unknown> = {}) {
    super(message);
  }
}
