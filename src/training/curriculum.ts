// Seeded, reproducible curricula over training example ids: the batches one recorded run sees.
//
// - shuffle: each epoch is a fresh random permutation of the training ids cut into batches of
//   batchSize (the last batch of an epoch may be smaller, so every id is seen once per epoch);
//   with `steps` instead of `epochs`, epochs continue until `steps` batches are drawn.
// - subsample: each run first draws a random subset of round(fraction·n) ids (at least one),
//   then shuffles over that subset as above. Runs on different subsets are what
//   LDS-style studies need.
// - explicit: the given batches, as they are.
import { z } from "zod";
import { seededUniform } from "../random.ts";
import { TrainingInputError } from "./errors.ts";

const MAX_LISTED = 20;

export const curriculumSpecSchema = z.union([
  z.object({ kind: z.literal("shuffle") }),
  z.object({
    kind: z.literal("subsample"),
    subsampleFraction: z.number().gt(0).max(1),
  }),
  z.object({
    kind: z.literal("explicit").optional(),
    batches: z.array(z.array(z.string()).min(1)).min(1),
  }),
]);

export type CurriculumSpec = z.output<typeof curriculumSpecSchema>;

/** How long a run is: a number of epochs or of steps (batches); explicit batches set their own. */
export type RunLength = { epochs: number; steps?: undefined } | {
  steps: number;
  epochs?: undefined;
};

export interface CurriculumRequest {
  trainIds: readonly string[];
  batchSize: number;
  length?: RunLength;
  seed: number;
  /** The run's index: run r uses seed + r, so runs differ and each is reproducible. */
  run: number;
}

function positiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new TrainingInputError("invalid_curriculum", `${what} must be a positive integer`, {
      [what]: value,
    });
  }
}

function shuffleInPlace<T>(items: T[], next: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

function epochBatches(
  ids: readonly string[],
  batchSize: number,
  length: RunLength,
  next: () => number,
): string[][] {
  if (batchSize > ids.length) {
    throw new TrainingInputError(
      "batch_too_large",
      `batch size ${batchSize} is larger than the ${ids.length} training examples a run draws from`,
      { batchSize, trainExamples: ids.length },
    );
  }
  const batches: string[][] = [];
  const want = length.epochs !== undefined ? Infinity : length.steps;
  for (let epoch = 0; length.epochs === undefined || epoch < length.epochs; epoch++) {
    const order = shuffleInPlace([...ids], next);
    for (let start = 0; start < order.length && batches.length < want; start += batchSize) {
      batches.push(order.slice(start, start + batchSize));
    }
    if (batches.length >= want) break;
  }
  return batches;
}

function checkExplicit(batches: readonly string[][], trainIds: readonly string[]): void {
  const known = new Set(trainIds);
  const unknown = new Set<string>();
  batches.forEach((batch, t) => {
    if (batch.length === 0) {
      throw new TrainingInputError("invalid_curriculum", `batch ${t} is empty`, { batch: t });
    }
    for (const id of batch) if (!known.has(id)) unknown.add(id);
  });
  if (unknown.size > 0) {
    const ids = [...unknown];
    throw new TrainingInputError(
      "unknown_train_ids",
      `${ids.length} id(s) in the batches are not training examples: ${ids.slice(0, 5).join(", ")}${
        ids.length > 5 ? ", …" : ""
      }`,
      { ids: ids.slice(0, MAX_LISTED), total: ids.length },
    );
  }
}

/** The batches of one run. Throws TrainingInputError (400) for requests that cannot be met. */
export function planCurriculum(spec: CurriculumSpec, request: CurriculumRequest): string[][] {
  const { trainIds, batchSize, length, seed, run } = request;
  if (trainIds.length === 0) {
    throw new TrainingInputError("invalid_curriculum", "there are no training examples");
  }
  if ("batches" in spec) {
    checkExplicit(spec.batches, trainIds);
    return spec.batches.map((b) => [...b]);
  }
  positiveInt(batchSize, "batchSize");
  if (!length) {
    throw new TrainingInputError("invalid_curriculum", "give either epochs or steps");
  }
  if (length.epochs !== undefined) positiveInt(length.epochs, "epochs");
  else positiveInt(length.steps, "steps");
  const next = seededUniform((seed + run) >>> 0);
  if (spec.kind === "shuffle") return epochBatches(trainIds, batchSize, length, next);
  const size = Math.min(
    trainIds.length,
    Math.max(1, Math.round(spec.subsampleFraction * trainIds.length)),
  );
  const subset = shuffleInPlace([...trainIds], next).slice(0, size);
  return epochBatches(subset, batchSize, length, next);
}
