// Ranks training examples by their simulated effect on one test example: the one-step change of
// its loss when the example is in the batch, at the test example's typical loss L̄:
//   net_i = A_i · L̄ + B_i   (negative: training on i lowers the loss, i.e. helps).
import { SimfluenceInputError } from "./curriculum.ts";
import type { SimulatorParams } from "./types.ts";

export interface InfluenceEntry {
  index: number;
  A: number;
  B: number;
  net: number;
}

export interface InfluenceRanking {
  test: number;
  typicalLoss: number;
  /** Most negative net effect first; only net < 0. */
  helpful: InfluenceEntry[];
  /** Most positive net effect first; only net > 0. */
  harmful: InfluenceEntry[];
  /** Training indices left out because no fitting run contained them. */
  unseen: number;
}

export function rankInfluence(
  sim: SimulatorParams,
  test: number,
  options: { topK?: number; typicalLoss?: number } = {},
): InfluenceRanking {
  if (!Number.isInteger(test) || test < 0 || test >= sim.m) {
    throw new SimfluenceInputError(`test index ${test} is outside [0, ${sim.m})`);
  }
  const topK = Math.max(0, Math.floor(options.topK ?? 10));
  const typicalLoss = options.typicalLoss ?? sim.meanLoss[test];
  const unseen = new Set(sim.unseen);
  const entries: InfluenceEntry[] = [];
  for (let i = 0; i < sim.n; i++) {
    if (unseen.has(i)) continue;
    const A = sim.A[i * sim.m + test];
    const B = sim.B[i * sim.m + test];
    entries.push({ index: i, A, B, net: A * typicalLoss + B });
  }
  const helpful = entries.filter((e) => e.net < 0).sort((a, b) => a.net - b.net).slice(0, topK);
  const harmful = entries.filter((e) => e.net > 0).sort((a, b) => b.net - a.net).slice(0, topK);
  return { test, typicalLoss, helpful, harmful, unseen: unseen.size };
}
