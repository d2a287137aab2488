// Turns a handler's partial progress report into a full JobProgress, filling in ETA and throughput
// from elapsed time when the handler does not supply them.
import type { JobProgress } from "../store/store.ts";

export interface ProgressUpdate {
  phase?: string;
  /** Fraction of the whole job done, 0..1; derived from step/total when omitted. */
  fraction?: number;
  step?: number;
  total?: number;
  etaSeconds?: number;
  throughput?: number;
  /** Unit of an explicit `throughput` (per second), e.g. "tokens". */
  throughputUnit?: string;
  message?: string;
  details?: Record<string, number>;
}

export interface ProgressClock {
  /** When the job started running (ms). */
  startedMs: number;
  /** When the current phase began (ms), for per-phase throughput; steps count from 0 per phase. */
  phaseStartedMs: number;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

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
  }
  const step = finite(update.step) ? update.step : samePhase ? previous.step : null;
  const total = finite(update.total) ? update.total : samePhase ? previous.total : null;
  let fraction = finite(update.fraction)
    ? update.fraction
    : step !== null && total !== null && total > 0
    ? step / total
    : previous?.fraction ?? 0;
  fraction = Math.min(1, Math.max(0, fraction));

  const elapsed = (nowMs - clock.startedMs) / 1000;
  const phaseElapsed = (nowMs - clock.phaseStartedMs) / 1000;
  let throughput: number | null = null;
  let throughputUnit: string | null = null;
  if (finite(update.throughput)) {
    throughput = update.throughput;
    throughputUnit = update.throughputUnit ?? "steps";
  } else if (step !== null && phaseElapsed > 0) {
    throughput = step / phaseElapsed;
    throughputUnit = "steps";
  } else if (elapsed > 0 && fraction > 0) {
    throughput = fraction / elapsed;
    throughputUnit = "fraction";
  }

  let etaSeconds: number | null = null;
  if (finite(update.etaSeconds)) etaSeconds = Math.max(0, update.etaSeconds);
  else if (fraction >= 1) etaSeconds = 0;
  else if (fraction > 0 && elapsed > 0) etaSeconds = (elapsed * (1 - fraction)) / fraction;

  return {
    phase,
    fraction,
    step,
    total,
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
