// What the run routes ask of runs: storing an upload in any of its formats, a run's trajectories,
// its checkpoints, and deleting it. Failures are DomainErrors (src/errors.ts).
import { float32Decimal } from "../float32.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import type { Store } from "../store/store.ts";
import { runFromGptfluence } from "./gptfluence_format.ts";
import { runFromJson, type RunJson } from "./json_format.ts";
import { runFromNdjson } from "./ndjson_format.ts";
import { listSome } from "./run_input.ts";
import { type RunRecord, RUNS } from "./run_store.ts";

/** An uploaded run, in the format it came in; `source` of the stored run names the format. */
export type RunUpload =
  | { format: "json"; run: RunJson }
  | { format: "ndjson"; body: ReadableStream<Uint8Array> | null }
  | { format: "gptfluence"; study: string; name: string; trainSamples: string; losses: string };

/**
 * Parses and stores a run; nothing is stored unless the whole run is valid and within the store's
 * limits (each format checks them as it parses, the store the study's union when storing).
 */
export async function uploadRun(store: Store, upload: RunUpload): Promise<RunRecord> {
  const runs = store.get(RUNS);
  const { limits } = runs;
  let input;
  if (upload.format === "json") input = runFromJson(upload.run, limits);
  else if (upload.format === "ndjson") {
    if (!upload.body) {
      throw new InvalidInputError("empty body: the first line must hold the run header");
    }
    input = await runFromNdjson(upload.body, { limits });
  } else {
    input = runFromGptfluence(
      upload.study,
      upload.name,
      upload.trainSamples,
      upload.losses,
      limits,
    );
  }
  return await runs.create(input, upload.format);
}

/** A run's metadata; NotFoundError when there is none. */
export function requireRun(store: Store, id: string): RunRecord {
  const record = store.get(RUNS).get(id);
  if (!record) throw new NotFoundError(`run ${id}`, { field: "id", id });
  return record;
}

/** Parses comma-separated ids against the known ones; InvalidInputError listing the unknown. */
export function selectTests(param: string | undefined, known: readonly string[]): number[] {
  if (param === undefined || param.trim() === "") return known.map((_, j) => j);
  const index = new Map(known.map((id, j) => [id, j]));
  const wanted = param.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = wanted.filter((id) => !index.has(id));
  if (unknown.length > 0) {
    throw new InvalidInputError(`unknown test example ids: ${unknown.slice(0, 5).join(", ")}`, {
      field: "tests",
      unknown: listSome(unknown),
    });
  }
  return wanted.map((id) => index.get(id)!);
}

/** Observed losses L_0 … L_T of the test examples in `tests` (comma-separated; all if absent). */
export async function runTrajectories(
  store: Store,
  id: string,
  tests: string | undefined,
): Promise<{ run: string; steps: number; trajectories: Record<string, number[]> }> {
  const { run } = await store.get(RUNS).load(id);
  const columns = selectTests(tests, run.testExamples);
  const m = run.testExamples.length;
  const rows = run.steps.length + 1;
  const trajectories: Record<string, number[]> = {};
  for (const j of columns) {
    trajectories[run.testExamples[j]] = Array.from(
      { length: rows },
      (_, t) => float32Decimal(run.losses[t * m + j]),
    );
  }
  return { run: id, steps: run.steps.length, trajectories };
}

export interface CheckpointInfo {
  /** Weights after this step (1-based). */
  step: number;
  bytes: number;
  sha256: string;
}

/** The weights checkpoints of a run, by step (none for uploaded runs); NotFoundError. */
export function runCheckpoints(store: Store, id: string): CheckpointInfo[] {
  const runs = store.get(RUNS);
  if (!runs.get(id)) throw new NotFoundError(`run ${id}`, { field: "id", id });
  return runs.checkpoints(id).map(({ step, tensor }) => {
    const info = store.tensors.info(tensor);
    return { step, bytes: info?.bytes ?? 0, sha256: info?.sha256 ?? "" };
  });
}

/** One checkpoint's safetensors bytes; NotFoundError naming the steps there are. */
export async function checkpointBytes(store: Store, id: string, step: number): Promise<Uint8Array> {
  const runs = store.get(RUNS);
  if (!runs.get(id)) throw new NotFoundError(`run ${id}`, { field: "id", id });
  const checkpoints = runs.checkpoints(id);
  const found = checkpoints.find((k) => k.step === step);
  if (!found) {
    throw new NotFoundError(`checkpoint at step ${step} of run ${id}`, {
      field: "step",
      steps: listSome(checkpoints.map((k) => String(k.step))),
    });
  }
  return await store.tensors.bytes(found.tensor);
}

/** Deletes a run with its losses and checkpoints; NotFoundError when there is none. */
export async function deleteRun(store: Store, id: string): Promise<void> {
  if (!(await store.get(RUNS).delete(id))) {
    throw new NotFoundError(`run ${id}`, { field: "id", id });
  }
}
