// Long CPU loops (the fallback CG solve, CPU rollouts) run on the service's only thread: they hand
// the event loop a turn every few milliseconds of work, so HTTP requests, SSE streams and
// cancellations keep being served, and they stop at the next turn once their signal aborts.

/** Default work between two turns of the event loop. */
export const DEFAULT_SLICE_MS = 20;

const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class TimeSlice {
  private started = performance.now();

  constructor(
    private readonly signal?: AbortSignal,
    private readonly sliceMs = DEFAULT_SLICE_MS,
  ) {
    signal?.throwIfAborted();
  }

  /** True once this slice's work time is used up. */
  get due(): boolean {
    return performance.now() - this.started >= this.sliceMs;
  }

  /** Gives the event loop one turn, then throws the signal's reason if it aborted meanwhile. */
  async yield(): Promise<void> {
    await nextTurn();
    this.signal?.throwIfAborted();
    this.started = performance.now();
  }

  /** `yield()` when the slice is used up; otherwise only the abort check. */
  async maybeYield(): Promise<void> {
    if (this.due) await this.yield();
    else this.signal?.throwIfAborted();
  }
}

/**
 * Work written once as a generator that yields every so often (a CG iteration, a few thousand
 * entries of a loop over ids): `runToEnd` drives it without pause (tests, benchmarks, the
 * reference), `runCooperatively` gives the event loop a turn whenever the slice is used up.
 */
export function runToEnd<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

export async function runCooperatively<T>(
  steps: Generator<void, T, void>,
  slice: TimeSlice,
): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (slice.due) await slice.yield();
  }
}

/** How many entries of a loop over ids run between two yields of its generator. */
export const YIELD_EVERY = 4096;
