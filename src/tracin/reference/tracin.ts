// TracIn-CP in float64 on the CPU, from exact per-example gradients (the float64 GPT-2 reference,
// one example at a time): the yardstick for engine.ts.
//   TracIn(q, m) = Σ_c η_c Σ_groups ⟨∇_group ℓ_q(θ_c), ∇_group ℓ_m(θ_c)⟩,
// losses summed over labelled tokens. Groups as in engine.ts: every parameter by layer ("all"),
// or the tracked linear modules' weight and bias ("mlp", "linear").
import { prepareBatch } from "../../gpt2/batch.ts";
import type { ParamSet } from "../../gpt2/params.ts";
import { referenceBackward, referenceForward, toParams64 } from "../../gpt2/reference/model.ts";
import { trackedModules } from "../../influence/modules.ts";
import type { Sequence } from "../../influence/sequences.ts";
import { buildBatch } from "../../training/encode.ts";
import { parameterGroup, type TracinParameters } from "../engine.ts";

export interface ReferenceTracinResult {
  modules: string[];
  /** [modules][Q·M], rows are queries. */
  perModule: Float64Array[];
  /** [Q·M]. */
  total: Float64Array;
}

/** Per group, the flattened float64 gradient of one sequence's summed loss. */
function exampleGradients(
  params: ParamSet,
  sequence: Sequence,
  groups: Map<string, string[]>,
): Float64Array[] {
  const p64 = toParams64(params);
  const prepared = prepareBatch(buildBatch([sequence]), params.config);
  const fwd = referenceForward(p64, params.config, prepared);
  const weights = prepared.exampleWeights.map((w) => (w > 0 ? 1 : 0));
  const grads = referenceBackward(p64, params.config, prepared, fwd, weights);
  return [...groups.values()].map((names) => {
    const parts = names.map((n) => grads.get(n)!);
    const out = new Float64Array(parts.reduce((k, a) => k + a.length, 0));
    let at = 0;
    for (const a of parts) (out.set(a, at), (at += a.length));
    return out;
  });
}

export function referenceTracin(
  checkpoints: readonly { lr: number; params: ParamSet }[],
  parameters: TracinParameters,
  train: readonly Sequence[],
  queries: readonly Sequence[],
): ReferenceTracinResult {
  const config = checkpoints[0].params.config;
  const groups = new Map<string, string[]>();
  if (parameters === "all") {
    for (const name of checkpoints[0].params.values.keys()) {
      const group = parameterGroup(name);
      groups.set(group, [...(groups.get(group) ?? []), name]);
    }
  } else {
    for (const m of trackedModules(config, parameters === "mlp" ? "mlp" : "all")) {
      groups.set(m.name, [`${m.name}.weight`, `${m.name}.bias`]);
    }
  }
  const Q = queries.length;
  const M = train.length;
  const perModule = [...groups.keys()].map(() => new Float64Array(Q * M));
  for (const { lr, params } of checkpoints) {
    const qg = queries.map((s) => exampleGradients(params, s, groups));
    const tg = train.map((s) => exampleGradients(params, s, groups));
    for (let q = 0; q < Q; q++) {
      for (let m = 0; m < M; m++) {
        perModule.forEach((out, g) => {
          const a = qg[q][g];
          const b = tg[m][g];
          let dot = 0;
          for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
          out[q * M + m] += lr * dot;
        });
      }
    }
  }
  const total = new Float64Array(Q * M);
  for (const t of perModule) for (let j = 0; j < total.length; j++) total[j] += t[j];
  return { modules: [...groups.keys()], perModule, total };
}
