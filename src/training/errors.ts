// Typed errors of the training recorder. They stay free of HTTP but carry `httpStatus` and `code`
// (see HttpMappedError in src/errors.ts), so a route or job can surface them as they are meant.

/** A client mistake in what was asked to be trained: the request cannot be run as given (400). */
export class TrainingInputError extends Error {
  override name = "TrainingInputError";
  readonly httpStatus = 400;
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * Training produced a non-finite loss: the request was well-formed but its settings (usually
 * the learning rate) made the model diverge. `step` is 1-based (0: before training).
 */
export class TrainingDivergedError extends Error {
  override name = "TrainingDivergedError";
  readonly httpStatus = 422;
  readonly code = "training_diverged";
  readonly details: { run: number; step: number; which: "train" | "test"; exampleId?: string };
  constructor(run: number, step: number, which: "train" | "test", exampleId?: string) {
    const what = which === "train"
      ? "the training loss"
      : `the loss of test example "${exampleId}"`;
    super(`run ${run}, step ${step}: ${what} is not finite (training diverged; lower the lr?)`);
    this.details = { run, step, which, ...(exampleId === undefined ? {} : { exampleId }) };
  }

  get run(): number {
    return this.details.run;
  }

  get step(): number {
    return this.details.step;
  }
}
