// Fitted influence factors: what the factors stage produces and the scores stage consumes, per
// tracked module, with its file form (one safetensors file; tensors named `<module>.<part>`).
//
// Parts (f32, row-major; see modules.ts for the gradient-matrix layout [dOut, cols]):
//   q_a [cols, cols], q_s [dOut, dOut]: eigenvectors of A and S, one per column (ekfac, kfac);
//   eig_a [cols], eig_s [dOut]: their eigenvalues, ascending (ekfac, kfac);
//   lambda [dOut, cols]: Λ — in the eigenbasis for ekfac/kfac, the diagonal Fisher otherwise.
// identity has no parts.
import type { TensorInput } from "../../store/safetensors.ts";
import type { TrackedModule } from "../modules.ts";

export const STRATEGIES = ["ekfac", "kfac", "diagonal", "identity"] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const FISHERS = ["true", "empirical"] as const;
export type Fisher = (typeof FISHERS)[number];

export interface ModuleFactorSet {
  module: TrackedModule;
  qA?: Float32Array;
  qS?: Float32Array;
  eigA?: Float32Array;
  eigS?: Float32Array;
  lambda?: Float32Array;
}

export interface FactorSet {
  strategy: Strategy;
  modules: ModuleFactorSet[];
  /** Non-padding positions the covariances were averaged over (ekfac, kfac). */
  positions: number;
  /** Sequences Λ was averaged over (ekfac, diagonal). */
  sequences: number;
}

/** Whether a strategy preconditions in the Kronecker eigenbasis. */
export function usesEigenbasis(strategy: Strategy): boolean {
  return strategy === "ekfac" || strategy === "kfac";
}

export function meanOf(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return values.length > 0 ? sum / values.length : 0;
}

/** kronfluence's heuristic damping: 0.1 × the mean of Λ, per module. */
export function heuristicDamping(factors: ModuleFactorSet): number {
  return factors.lambda ? 0.1 * meanOf(factors.lambda) : 0;
}

const PARTS = ["qA", "qS", "eigA", "eigS", "lambda"] as const;
const FILE_NAMES: Record<(typeof PARTS)[number], string> = {
  qA: "q_a",
  qS: "q_s",
  eigA: "eig_a",
  eigS: "eig_s",
  lambda: "lambda",
};

function partShape(m: TrackedModule, part: (typeof PARTS)[number]): number[] {
  switch (part) {
    case "qA":
      return [m.cols, m.cols];
    case "qS":
      return [m.dOut, m.dOut];
    case "eigA":
      return [m.cols];
    case "eigS":
      return [m.dOut];
    case "lambda":
      return [m.dOut, m.cols];
  }
}

/** The tensors of a factor file. */
export function factorTensors(set: FactorSet): Record<string, TensorInput> {
  const out: Record<string, TensorInput> = {};
  for (const f of set.modules) {
    for (const part of PARTS) {
      const data = f[part];
      if (data) {
        out[`${f.module.name}.${FILE_NAMES[part]}`] = { shape: partShape(f.module, part), data };
      }
    }
  }
  return out;
}

/** Reads a factor file back; `tensor` gives a named tensor's f32 data or null. */
export function factorSetFrom(
  strategy: Strategy,
  modules: readonly TrackedModule[],
  counts: { positions: number; sequences: number },
  tensor: (name: string) => Float32Array | null,
): FactorSet {
  return {
    strategy,
    ...counts,
    modules: modules.map((module) => {
      const f: ModuleFactorSet = { module };
      for (const part of PARTS) {
        const data = tensor(`${module.name}.${FILE_NAMES[part]}`);
        if (data) f[part] = data;
      }
      return f;
    }),
  };
}
