// A score set's file: one safetensors file with the scores and, as asked, their per-module terms,
// which pairs were scored (BM25 filtering), and per-token scores.
//
// Tensors (f32, row-major):
//   scores          pairwise [Q, M] (rows are queries) | self [M]
//   module.<name>   the same shape: one module's terms (they sum to `scores`)
//   scored          pairwise [Q, M]: 1 where the pair was scored, 0 where a filter skipped it
//   tokens          pairwise [Q, M, T]: one score per input position of training sequence m,
//                   zero-padded to T = the longest training sequence
//   train_lengths   [M]: each training sequence's token count
import type { Safetensors, TensorInput } from "../../store/safetensors.ts";
import { toFloat32 } from "../../store/safetensors.ts";
import type { ScoreResult } from "./engine.ts";

export interface ScoreFileInput {
  result: ScoreResult;
  /** Indices into the full training list of the sequences that were scored, ascending. */
  scoredTrain: readonly number[];
  /** Full training-list size M. */
  trainCount: number;
  /** Pairwise: per query, the training indices a filter kept (null: every one). */
  candidates: readonly (ReadonlySet<number> | null)[] | null;
  trainLengths: readonly number[];
  keepModules: boolean;
}

/** Spreads the scored columns back to the full training list; unscored pairs are NaN. */
function spread(values: ArrayLike<number>, rows: number, input: ScoreFileInput): Float32Array {
  const M = input.trainCount;
  const S = input.scoredTrain.length;
  const out = new Float32Array(rows * M).fill(NaN);
  for (let r = 0; r < rows; r++) {
    const keep = input.candidates?.[r] ?? null;
    input.scoredTrain.forEach((m, j) => {
      if (!keep || keep.has(m)) out[r * M + m] = values[r * S + j];
    });
  }
  return out;
}

export function scoreTensors(input: ScoreFileInput): Record<string, TensorInput> {
  const { result, trainCount: M } = input;
  const pairwise = result.mode === "pairwise";
  const rows = pairwise ? result.queries : 1;
  const shape = pairwise ? [rows, M] : [M];
  const out: Record<string, TensorInput> = {
    scores: { shape, data: spread(result.total, rows, input) },
    train_lengths: { shape: [M], data: Float32Array.from(input.trainLengths) },
  };
  if (input.keepModules) {
    result.modules.forEach((name, i) => {
      out[`module.${name}`] = { shape, data: spread(result.perModule[i], rows, input) };
    });
  }
  if (pairwise) {
    const scored = spread(new Float32Array(rows * input.scoredTrain.length).fill(1), rows, input)
      .map((v) => (Number.isNaN(v) ? 0 : 1));
    out.scored = { shape, data: scored };
  }
  if (result.tokens) {
    const T = Math.max(1, ...input.trainLengths);
    const tokens = new Float32Array(rows * M * T);
    for (let q = 0; q < rows; q++) {
      const keep = input.candidates?.[q] ?? null;
      input.scoredTrain.forEach((m, j) => {
        if (!keep || keep.has(m)) tokens.set(result.tokens![q][j], (q * M + m) * T);
      });
    }
    out.tokens = { shape: [rows, M, T], data: tokens };
  }
  return out;
}

/** A stored score file, read back. */
export class ScoreFile {
  constructor(private readonly file: Safetensors) {}

  has(name: string): boolean {
    return this.file.tensors.has(name);
  }

  tensor(name: string): { shape: readonly number[]; data: Float32Array } {
    const entry = this.file.tensors.get(name);
    if (!entry) throw new RangeError(`score file has no tensor ${name}`);
    return { shape: entry.shape, data: toFloat32(entry) };
  }
}
