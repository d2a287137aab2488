// What store:copy reports to the operator as one message (exit code 1), never as a stack trace:
// bad input, a target that is not empty, a tensor whose checksum does not match.
export class CopyError extends Error {
  override name = "CopyError";
}

/** The copy was asked to stop (Ctrl-C) between two steps; running it again resumes. */
export class CopyInterruptedError extends CopyError {
  override name = "CopyInterruptedError";
  constructor() {
    super("interrupted: run the same command again to resume the copy");
  }
}
