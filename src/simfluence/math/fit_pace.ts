// A fit's progress in time. How many λ trials the search makes is only known as it goes (it stops
// at the first trial that does not improve), and weaker λ solve more slowly, so the fraction is
// the time spent over the time spent plus an estimate of what remains: the current solve at its
// measured share (its converged test examples), half the trials left in the grid, each slower
// than the last by the measured growth, and the refit at the pace of the last trial.

export interface FitProgress {
  phase: "lambda-search" | "final-solve";
  /** 0..1 over the whole fit, in time; never goes back. */
  fraction: number;
  /** The λ factor being solved. */
  lambdaFactor: number;
  iterations: number;
  /** Solves finished, and expected in all (λ trials, then the refit). */
  solvesDone: number;
  solves: number;
}

export class FitPace {
  private trialsLeft: number;
  private finishedSeconds = 0;
  private lastSolveSeconds = 0;
  private growth = 1;
  private solvesDone = 0;
  private startedMs: number;
  private inRefit = false;
  private last = 0;

  constructor(
    trials: number,
    private readonly onProgress?: (p: FitProgress) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.trialsLeft = trials;
    this.startedMs = now();
  }

  begin(phase: FitProgress["phase"] = "lambda-search"): void {
    this.startedMs = this.now();
    if (phase === "final-solve") {
      this.inRefit = true;
      this.trialsLeft = 0;
    } else this.trialsLeft = Math.max(0, this.trialsLeft - 1);
  }

  /** `within`: the share of the current solve done (its converged test examples), 0..1. */
  report(
    phase: FitProgress["phase"],
    lambdaFactor: number,
    iterations: number,
    within: number,
  ): void {
    const elapsed = (this.now() - this.startedMs) / 1000;
    const share = Math.min(1, Math.max(within, 0));
    // A trial is no faster than the one before it; before any test example converges, a solve
    // is assumed to take as long as the last one (or twice what it has taken so far).
    const floor = this.inRefit ? 0 : this.lastSolveSeconds * this.growth;
    const estimate = Math.max(
      elapsed,
      floor,
      share > 0 ? elapsed / share : Math.max(2 * elapsed, this.lastSolveSeconds),
    );
    const after = this.inRefit ? { seconds: 0, solves: 0 } : this.afterTrial(estimate);
    this.emit(phase, lambdaFactor, iterations, elapsed, estimate + after.seconds, 1 + after.solves);
  }

  /** `searchGoesOn`: whether another λ trial follows (else the refit does). */
  end(phase: FitProgress["phase"], lambdaFactor: number, searchGoesOn = false): void {
    const seconds = (this.now() - this.startedMs) / 1000;
    if (phase === "lambda-search" && this.lastSolveSeconds > 0) {
      this.growth = Math.min(3, Math.max(1, seconds / this.lastSolveSeconds));
    }
    if (!searchGoesOn) this.trialsLeft = 0;
    this.lastSolveSeconds = seconds;
    this.finishedSeconds += seconds;
    this.solvesDone++;
    this.startedMs = this.now();
    if (phase === "final-solve") {
      this.last = 1;
      this.onProgress?.({
        phase,
        lambdaFactor,
        iterations: 0,
        fraction: 1,
        solvesDone: this.solvesDone,
        solves: this.solvesDone,
      });
      return;
    }
    const after = this.afterTrial(seconds);
    this.emit(phase, lambdaFactor, 0, 0, after.seconds, after.solves);
  }

  /** What is expected after a trial taking `seconds`: half the trials left, then the refit. */
  private afterTrial(seconds: number): { seconds: number; solves: number } {
    const trials = Math.ceil(this.trialsLeft / 2);
    let total = 0;
    let next = seconds;
    for (let k = 0; k < trials; k++) total += next *= this.growth;
    return { seconds: total + next, solves: trials + 1 };
  }

  private emit(
    phase: FitProgress["phase"],
    lambdaFactor: number,
    iterations: number,
    elapsed: number,
    remainingSeconds: number,
    remainingSolves: number,
  ): void {
    const whole = this.finishedSeconds + remainingSeconds;
    const fraction = whole > 0 ? (this.finishedSeconds + elapsed) / whole : 0;
    this.last = Math.max(this.last, Math.min(0.99, fraction));
    this.onProgress?.({
      phase,
      lambdaFactor,
      iterations,
      fraction: this.last,
      solvesDone: this.solvesDone,
      solves: this.solvesDone + remainingSolves,
    });
  }
}
