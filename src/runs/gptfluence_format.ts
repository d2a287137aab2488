// The run layout of GPTfluence, a published reimplementation of Simfluence, so users can bring runs
// they already recorded:
//   train_samples_id.json    JSONL {"step": t, "samples_id": [ids]}: the batch that produced step t
//   all_loss_trajectory.out  JSONL {"id": test id, "loss_trajectory": [{"step": t, "loss": x}, ...]}
// As in GPTfluence, the transition into loss step t used the batch recorded under step t; the first
// trajectory entry is the loss before training. Numeric ids become strings on import and numbers on
// export (when they are plain integers), so a round trip gives back the original files.

import { zipSync } from "fflate";
import { float32Decimal } from "../float32.ts";
import { InvalidInputError } from "../errors.ts";
import { type RunInput, validateRunInput } from "./run_input.ts";
import { checkBatchSize, DEFAULT_RUN_LIMITS, type RunLimits } from "./run_limits.ts";

export const TRAIN_FILE = "train_samples_id.json";
export const LOSS_FILE = "all_loss_trajectory.out";

function fileError(file: string, line: number, message: string): InvalidInputError {
  return new InvalidInputError(`${file} line ${line}: ${message}`, { file, line }, "invalid_run");
}

function* jsonLines(file: string, text: string): Generator<[number, Record<string, unknown>]> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (e) {
      throw fileError(file, i + 1, `malformed JSON: ${e instanceof Error ? e.message : e}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw fileError(file, i + 1, "each line must be a JSON object");
    }
    yield [i + 1, value as Record<string, unknown>];
  }
}

function idString(value: unknown, file: string, line: number, field: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  throw fileError(
    file,
    line,
    `${field} must be a string or number id, got ${JSON.stringify(value)}`,
  );
}

function isStep(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

export function runFromGptfluence(
  study: string,
  name: string,
  trainText: string,
  lossText: string,
  limits: RunLimits = DEFAULT_RUN_LIMITS,
): RunInput {
  const batches = new Map<number, string[]>();
  for (const [line, obj] of jsonLines(TRAIN_FILE, trainText)) {
    if (!isStep(obj.step)) throw fileError(TRAIN_FILE, line, "step must be a non-negative integer");
    if (!Array.isArray(obj.samples_id)) {
      throw fileError(TRAIN_FILE, line, "samples_id must be an array of ids");
    }
    if (batches.has(obj.step)) throw fileError(TRAIN_FILE, line, `step ${obj.step} appears twice`);
    checkBatchSize(obj.samples_id.length, limits, { file: TRAIN_FILE, line, field: "samples_id" });
    batches.set(
      obj.step,
      obj.samples_id.map((id, k) => idString(id, TRAIN_FILE, line, `samples_id.${k}`)),
    );
  }
  if (batches.size === 0) throw fileError(TRAIN_FILE, 1, "the file holds no steps");

  const testExamples: string[] = [];
  const trajectories: number[][] = [];
  let steps: number[] | null = null;
  for (const [line, obj] of jsonLines(LOSS_FILE, lossText)) {
    const id = idString(obj.id, LOSS_FILE, line, "id");
    if (!Array.isArray(obj.loss_trajectory) || obj.loss_trajectory.length < 2) {
      throw fileError(
        LOSS_FILE,
        line,
        "loss_trajectory must list at least two {step, loss} points",
      );
    }
    const points = obj.loss_trajectory.map((p: unknown, k: number) => {
      const point = p as { step?: unknown; loss?: unknown } | null;
      if (!point || !isStep(point.step) || typeof point.loss !== "number") {
        throw fileError(
          LOSS_FILE,
          line,
          `loss_trajectory.${k} must be {"step": int, "loss": number}`,
        );
      }
      if (!Number.isFinite(point.loss) || point.loss < 0) {
        throw fileError(
          LOSS_FILE,
          line,
          `loss_trajectory.${k}.loss must be finite and >= 0, got ${point.loss}`,
        );
      }
      return { step: point.step, loss: point.loss };
    }).sort((a, b) => a.step - b.step);
    const ownSteps = points.map((p) => p.step);
    if (steps === null) {
      steps = ownSteps;
      for (let k = 1; k < steps.length; k++) {
        if (steps[k] !== steps[k - 1] + 1) {
          throw fileError(
            LOSS_FILE,
            line,
            `steps jump from ${steps[k - 1]} to ${
              steps[k]
            }: Simfluence needs the loss after every step`,
          );
        }
        if (!batches.has(steps[k])) {
          throw fileError(LOSS_FILE, line, `step ${steps[k]} has no batch in ${TRAIN_FILE}`);
        }
      }
    } else if (ownSteps.length !== steps.length || ownSteps.some((s, k) => s !== steps![k])) {
      throw fileError(
        LOSS_FILE,
        line,
        `test example "${id}" was recorded at other steps than the first one`,
      );
    }
    testExamples.push(id);
    trajectories.push(points.map((p) => p.loss));
  }
  if (steps === null) throw fileError(LOSS_FILE, 1, "the file holds no test examples");

  const m = testExamples.length;
  const losses = new Float32Array(steps.length * m);
  trajectories.forEach((trajectory, j) =>
    trajectory.forEach((loss, t) => (losses[t * m + j] = loss))
  );
  const run: RunInput = {
    study,
    name,
    testExamples,
    steps: steps.slice(1).map((s) => ({ batch: batches.get(s)! })),
    losses,
  };
  validateRunInput(run, limits);
  return run;
}

function exportId(id: string): string | number {
  return /^(0|-?[1-9][0-9]{0,14})$/.test(id) ? Number(id) : id;
}

export function runToGptfluence(run: RunInput): { train: string; loss: string } {
  const m = run.testExamples.length;
  const train =
    run.steps.map((step, t) =>
      JSON.stringify({ step: t + 1, samples_id: step.batch.map(exportId) })
    ).join("\n") + "\n";
  const loss = run.testExamples.map((id, j) =>
    JSON.stringify({
      id: exportId(id),
      loss_trajectory: Array.from(
        { length: run.steps.length + 1 },
        (_, t) => ({ step: t, loss: float32Decimal(run.losses[t * m + j]) }),
      ),
    })
  ).join("\n") + "\n";
  return { train, loss };
}

/** Both files in one zip archive, as GPTfluence keeps them side by side in a run folder. */
export function runToGptfluenceZip(run: RunInput): Uint8Array {
  const { train, loss } = runToGptfluence(run);
  const encoder = new TextEncoder();
  return zipSync({ [TRAIN_FILE]: encoder.encode(train), [LOSS_FILE]: encoder.encode(loss) });
}
