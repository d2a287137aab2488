// Synthetic run files for the browser test: a small study whose losses follow a known linear
// simulator (so a Linear fit is meaningful), and one wide run to time the page's plotting.
import { seededUniform } from "../../src/random.ts";

export interface RunFile {
  study: string;
  name: string;
  testExamples: string[];
  steps: { batch: string[] }[];
  losses: number[][];
}

/**
 * `runs` runs of `steps` steps over training ids e0…e{train-1} (batches of 2, each run its own
 * seeded order) and test examples q0…q{tests-1}: L_t = L_{t−1} + Σ_{i ∈ batch} (a_i L_{t−1} + b_i).
 */
export function linearStudy(
  study: string,
  options: { runs: number; steps: number; train: number; tests: number; seed: number },
): RunFile[] {
  const random = seededUniform(options.seed);
  const tests = Array.from({ length: options.tests }, (_, j) => `q${j}`);
  const train = Array.from({ length: options.train }, (_, i) => `e${i}`);
  const a = train.map(() => tests.map(() => -0.01 - 0.02 * random()));
  const b = train.map(() => tests.map(() => 0.02 * (random() - 0.6)));
  const start = tests.map(() => 2 + random());
  return Array.from({ length: options.runs }, (_, r) => {
    const steps: { batch: string[] }[] = [];
    const losses = [start.slice()];
    for (let t = 0; t < options.steps; t++) {
      const batch = [0, 1].map(() => Math.floor(random() * options.train));
      steps.push({ batch: batch.map((i) => train[i]) });
      const previous = losses[t];
      losses.push(previous.map((L, j) => {
        const change = batch.reduce((sum, i) => sum + a[i][j] * L + b[i][j], 0);
        return L + change + 0.002 * (random() - 0.5);
      }));
    }
    return { study, name: `run-${r + 1}`, testExamples: tests, steps, losses };
  });
}

/** One run with many test examples and steps: decaying curves, for timing the plot. */
export function wideRun(study: string, tests: number, steps: number, seed: number): RunFile {
  const random = seededUniform(seed);
  const ids = Array.from({ length: tests }, (_, j) => `t${j}`);
  const rates = ids.map(() => 0.002 + 0.01 * random());
  const starts = ids.map(() => 2 + 2 * random());
  const losses = Array.from(
    { length: steps + 1 },
    (_, t) =>
      ids.map((_, j) =>
        Math.round((starts[j] * Math.exp(-rates[j] * t) + 0.05 * random()) * 1e4) / 1e4
      ),
  );
  return {
    study,
    name: "wide",
    testExamples: ids,
    steps: Array.from({ length: steps }, (_, t) => ({ batch: [`x${t % 50}`] })),
    losses,
  };
}

/** The same run as NDJSON: a header line, then one line per step. */
export function toNdjson(run: RunFile): string {
  const header = {
    study: run.study,
    name: run.name,
    testExamples: run.testExamples,
    initialLosses: run.losses[0],
  };
  const lines = run.steps.map((s, t) =>
    JSON.stringify({ batch: s.batch, losses: run.losses[t + 1] })
  );
  return [JSON.stringify(header), ...lines].join("\n") + "\n";
}

/** The same run in GPTfluence's layout: the batch under step t produced loss step t. */
export function toGptfluence(run: RunFile): { train: string; losses: string } {
  const train = run.steps.map((s, t) => JSON.stringify({ step: t + 1, samples_id: s.batch }));
  const losses = run.testExamples.map((id, j) =>
    JSON.stringify({
      id,
      loss_trajectory: run.losses.map((row, t) => ({ step: t, loss: row[j] })),
    })
  );
  return { train: train.join("\n") + "\n", losses: losses.join("\n") + "\n" };
}
