// Turns a handler's partial progress report into a full JobProgress. The fields mean the same for
// every job:
//   phase        what the job is doing now
//   fraction     0..1 of the whole job's work; it never goes back
//   step, total  how far the current phase is ("step of total"), counted in `unit`; null when
//                the phase does not count anything
//   unit         what step and total count ("steps", "solves", "examples", …)
//   throughput   measured over the last WINDOW_MS, per second, in `throughputUnit` (the phase's
//                `unit` unless the handler measures something else, e.g. training's tokens); null
//                when the phase counts nothing
//   etaSeconds   (1 − fraction) at the fraction's measured rate over the last WINDOW_MS
// Within a phase, whatever a report leaves out carries over, so a job's last event keeps its unit.
import type { JobProgress } from "../store/store.ts";

export interface ProgressUpdate {
  phase?: string;
  /** Fraction of the whole job done, 0..1; derived from step/total when omitted. */
  fraction?: number;
  step?: number;
  total?: number;
  /** What `step` and `total` count; "steps" when not given. */
  unit?: string;
  etaSeconds?: number;
  /** A throughput the handler measured itself (per second), in `throughputUnit`. */
  throughput?: number;
  throughputUnit?: string;
  message?: string;
  details?: Record<string, number>;
}

interface Sample {
  ms: number;
  value: number;
}

export interface ProgressClock {
  /** When the job started running (ms). */
  startedMs: number;
  /** When the current phase began (ms). */
  phaseStartedMs: number;
  /** Recent (time, fraction) reports, for the ETA. */
  fractions?: Sample[];
  /** Recent (time, step) reports of the current phase, for its throughput. */
  steps?: Sample[];
}

/** Rates are measured over this much recent time (and the report just before it). */
export const WINDOW_MS = 10_000;

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Appends a sample and drops those older than the window, keeping one from before it. */
function remember(samples: Sample[], sample: Sample): void {
  samples.push(sample);
  while (samples.length > 2 && samples[1].ms <= sample.ms - WINDOW_MS) samples.shift();
}

/**
 * Change per second over the window: from its oldest sample to the newest, or from the sample
 * just before it when the newest is the only one inside. Null without two samples.
 */
function rate(samples: readonly Sample[]): number | null {
  if (samples.length < 2) return null;
  const last = samples[samples.length - 1];
  const inside = samples.findIndex((s) => s.ms >= last.ms - WINDOW_MS);
  const first = samples[inside < samples.length - 1 ? inside : inside - 1];
  const seconds = (last.ms - first.ms) / 1000;
  return seconds > 0 ? (last.value - first.value) / seconds : null;
}

export function nextProgress(
  previous: JobProgress | null,
  update: ProgressUpdate,
  clock: ProgressClock,
  nowMs: number,
): JobProgress {
  const phase = typeof update.phase === "string" && update.phase !== ""
    ? update.phase
    : previous?.phase ?? "running";
  const samePhase = previous !== null && previous.phase === phase;
  if (!samePhase) {
    // The new phase began when the previous one last reported (or when the job started).
    clock.phaseStartedMs = previous ? Date.parse(previous.updatedAt) : clock.startedMs;
    clock.steps = [{ ms: clock.phaseStartedMs, value: 0 }];
  }
  const step = finite(update.step) ? update.step : samePhase ? previous.step : null;
  const total = finite(update.total) ? update.total : samePhase ? previous.total : null;
  const carried: string | null = samePhase ? previous.unit ?? null : null;
  const unit: string | null = update.unit ?? carried ?? (step !== null ? "steps" : null);
  let fraction = finite(update.fraction)
    ? update.fraction
    : step !== null && total !== null && total > 0
    ? step / total
    : previous?.fraction ?? 0;
  fraction = Math.min(1, Math.max(0, fraction, previous?.fraction ?? 0));

  clock.fractions ??= [{ ms: clock.startedMs, value: 0 }];
  remember(clock.fractions, { ms: nowMs, value: fraction });
  clock.steps ??= [{ ms: clock.phaseStartedMs, value: 0 }];
  if (step !== null) remember(clock.steps, { ms: nowMs, value: step });

  let throughput: number | null = null;
  let throughputUnit: string | null = null;
  if (finite(update.throughput)) {
    throughput = update.throughput;
    throughputUnit = update.throughputUnit ?? unit ?? "steps";
  } else if (samePhase && previous.throughput !== null && previous.throughputUnit !== unit) {
    // The handler measures its own unit (e.g. tokens) and did not report it this time.
    throughput = previous.throughput;
    throughputUnit = previous.throughputUnit;
  } else if (step !== null) {
    const measured = rate(clock.steps);
    throughput = measured !== null ? Math.max(0, measured) : null;
    throughputUnit = unit;
  }

  let etaSeconds: number | null = null;
  const fractionRate = rate(clock.fractions);
  if (finite(update.etaSeconds)) etaSeconds = Math.max(0, update.etaSeconds);
  else if (fraction >= 1) etaSeconds = 0;
  else if (fractionRate !== null && fractionRate > 0) etaSeconds = (1 - fraction) / fractionRate;

  return {
    phase,
    fraction,
    step,
    total,
    unit,
    etaSeconds,
    throughput,
    throughputUnit,
    message: typeof update.message === "string"
      ? update.message
      : samePhase
      ? previous.message
      : null,
    details: update.details ?? (samePhase ? previous.details ?? null : null),
    updatedAt: new Date(nowMs).toISOString(),
  };
}
