// Warnings a factors record (and every score set computed from it) carries: things that do not
// stop the work but that a reader of its scores should know.
import type { Weights } from "../../models/weights.ts";

export interface InfluenceWarning {
  /** Stable, for programs. */
  code: "untrained_model";
  message: string;
}

/** The warnings that fitting factors on `weights` earns. */
export function weightsWarnings(
  weights: Pick<Weights, "untrained" | "source">,
): InfluenceWarning[] {
  if (!weights.untrained) return [];
  const what = "model" in weights.source
    ? `model ${weights.source.model} was randomly initialised and never trained`
    : `step ${weights.source.step} of run ${weights.source.run} is before any training step`;
  return [{
    code: "untrained_model",
    message: `${what}: attribution of an untrained model is rarely meaningful (its gradients ` +
      "and curvature reflect the random initialisation, not what training taught it); fit " +
      'factors on a trained checkpoint instead, e.g. {"run": <a recorded run>, "step": <a ' +
      "checkpoint's step>}",
  }];
}
