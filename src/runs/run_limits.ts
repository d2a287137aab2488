// Bounds on the training ids a run may bring: one batch's size, and the distinct training ids of a
// whole study (the rows of every simulator fitted on it, A and B being n x m). Unbounded, one
// upload of a few million ids made 30 MB records and stalled the service while fitting.

import { DomainError } from "../errors.ts";

export interface RunLimits {
  /** Training ids in one step's batch (repeats count): SIMFLUENCE_MAX_BATCH_SIZE. */
  maxBatchSize: number;
  /** Distinct training ids over all runs of a study: SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY. */
  maxTrainIdsPerStudy: number;
}

/**
 * 65,536 ids a batch is 16 times the largest batch the service's own recorder takes (4,096) and
 * far above fine-tuning batch sizes; 1,000,000 ids a study keeps a simulator's parameters (2·n·m
 * float32) at 8 MB per test example and its fit within a few seconds of CPU per CG iteration.
 */
export const DEFAULT_RUN_LIMITS: RunLimits = Object.freeze({
  maxBatchSize: 65_536,
  maxTrainIdsPerStudy: 1_000_000,
});

/** Where a limit was passed: the field, and the line of a line-based upload. */
export interface LimitPlace {
  field: string;
  line?: number;
  file?: string;
}

function where(place: LimitPlace): string {
  const file = place.file ? `${place.file} ` : "";
  return place.line === undefined ? place.field : `${file}line ${place.line} (${place.field})`;
}

/** 413 when one batch holds more ids than SIMFLUENCE_MAX_BATCH_SIZE. */
export function checkBatchSize(size: number, limits: RunLimits, place: LimitPlace): void {
  if (size <= limits.maxBatchSize) return;
  throw new DomainError(
    "too_large",
    "batch_too_large",
    `${where(place)}: the batch holds ${size} training ids; the limit is ` +
      `${limits.maxBatchSize} per step (SIMFLUENCE_MAX_BATCH_SIZE)`,
    { ...place, size, limit: limits.maxBatchSize, setting: "SIMFLUENCE_MAX_BATCH_SIZE" },
  );
}

/** 413 when a study would hold more distinct training ids than SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY. */
export function checkStudyTrainIds(
  distinct: number,
  limits: RunLimits,
  place: LimitPlace & { study: string },
): void {
  if (distinct <= limits.maxTrainIdsPerStudy) return;
  const { study, ...at } = place;
  throw new DomainError(
    "too_large",
    "too_many_train_examples",
    `${where(at)}: study "${study}" would hold ${distinct} distinct training ids; the limit is ` +
      `${limits.maxTrainIdsPerStudy} per study (SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY)`,
    {
      ...place,
      distinct,
      limit: limits.maxTrainIdsPerStudy,
      setting: "SIMFLUENCE_MAX_TRAIN_IDS_PER_STUDY",
    },
  );
}
