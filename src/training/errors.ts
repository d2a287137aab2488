// Typed errors of the training recorder: domain errors (src/errors.ts), free of HTTP.
import { DomainError } from "../errors.ts";

/** A client mistake in what was asked to be trained: the request cannot be run as given. */
export class TrainingInputError extends DomainError {
  override name = "TrainingInputError";
  declare readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super("invalid", code, message, details);
  }
}

/**
 * Training produced a non-finite loss: the request was well-formed but its settings (usually
 * the learning rate) made the model diverge. `step` is 1-based (0: before training).
 */
export class TrainingDivergedError extends DomainError {
  override name = "TrainingDivergedError";
  declare readonly details: {
    run: number;
    step: number;
    which: "train" | "test";
    exampleId?: string;
  };
  constructor(run: number, step: number, which: "train" | "test", exampleId?: string) {
    const what = which === "train"
      ? "the training loss"
      : `the loss of test example "${exampleId}"`;
    super(
      "unprocessable",
      "training_diverged",
      `run ${run}, step ${step}: ${what} is not finite (training diverged; lower the lr?)`,
      { run, step, which, ...(exampleId === undefined ? {} : { exampleId }) },
    );
  }

  get run(): number {
    return this.details.run;
  }

  get step(): number {
    return this.details.step;
  }
}
