// What every optimisation method gives back: the chosen curriculum, how it predicts any curriculum
// of the same setting (the chosen one, the study's own, the random ones), each candidate's
// contribution, and a record of its search and of what it read.
import type { ProgressUpdate } from "../jobs/manager.ts";
import type { ChosenCurriculum } from "./curriculum.ts";

export interface Prediction {
  objective: number | null;
  /** The objective after each step 0…T; null where the method predicts only the end. */
  trajectory: number[] | null;
}

export interface MethodOutcome {
  curriculum: ChosenCurriculum;
  predict(curriculum: ChosenCurriculum): Prediction;
  /**
   * Per pool id: the predicted change of the objective caused by its presence in the chosen
   * curriculum (negative: it lowers the loss).
   */
  contributions: ReadonlyMap<string, number>;
  search: Record<string, unknown>;
  provenance: Record<string, unknown>;
}

/** How a method reports its progress inside the job's share given to it (0…1). */
export interface MethodProgress {
  signal: AbortSignal;
  report(update: ProgressUpdate): void;
}
