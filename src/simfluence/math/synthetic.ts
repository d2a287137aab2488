// Synthetic studies drawn from a known Simfluence-Linear model, for tests and benchmarks:
// seeded random curricula and loss trajectories L_t = α_t L_{t-1} + β_t + noise.
import { gaussian, seededUniform } from "../../random.ts";
import type { Run } from "./types.ts";

export interface TrueModel {
  n: number;
  m: number;
  /** n x m train-major. */
  A: Float32Array;
  B: Float32Array;
}

export interface ModelShape {
  n: number;
  m: number;
  aMean: number;
  aSpread: number;
  bMean: number;
  bSpread: number;
}

export function randomModel(seed: number, shape: ModelShape): TrueModel {
  const normal = gaussian(seededUniform(seed));
  const { n, m } = shape;
  const A = new Float32Array(n * m);
  const B = new Float32Array(n * m);
  for (let k = 0; k < n * m; k++) {
    A[k] = shape.aMean + shape.aSpread * normal();
    B[k] = shape.bMean + shape.bSpread * normal();
  }
  return { n, m, A, B };
}

export interface RunShape {
  runs: number;
  steps: number;
  batch: number;
  /** Standard deviation of the per-step process noise. */
  noise: number;
  /** L_0 of every test example (shared by all runs, as when fine-tuning one model). */
  initial: Float32Array;
}

/** Runs whose curricula draw batches uniformly with replacement across steps (distinct in a step). */
export function generateRuns(seed: number, model: TrueModel, shape: RunShape): Run[] {
  const rand = seededUniform(seed);
  const normal = gaussian(rand);
  const { n, m } = model;
  const runs: Run[] = [];
  for (let r = 0; r < shape.runs; r++) {
    const batches: number[][] = [];
    const losses = new Float32Array((shape.steps + 1) * m);
    const l = Float64Array.from(shape.initial);
    losses.set(shape.initial, 0);
    for (let t = 0; t < shape.steps; t++) {
      const batch = new Set<number>();
      while (batch.size < Math.min(shape.batch, n)) batch.add(Math.floor(rand() * n));
      batches.push([...batch]);
      for (let z = 0; z < m; z++) {
        let a = 1;
        let b = 0;
        for (const i of batch) {
          a += model.A[i * m + z];
          b += model.B[i * m + z];
        }
        l[z] = a * l[z] + b + shape.noise * normal();
        losses[(t + 1) * m + z] = l[z];
      }
    }
    runs.push({ id: `run-${r}`, batches, losses });
  }
  return runs;
}
