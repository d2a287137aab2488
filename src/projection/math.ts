// What a gradient projection projects, and to what: the parameters (dense) or linear layers
// (Kronecker) a selection names, and how a request's `dim` splits over layers.
//
// Dense (TRAK): g is the concatenation, in Hugging Face parameter order, of the selected
// parameters' gradients in their own layouts (Conv1D weights [d_in, d_out], then biases);
// "all" is every parameter with the tied embedding wte once (its vocab_size real rows).
// φ = Pᵀ g with P [p, dim], entries ±1/√dim from the seeded hash (hash.ts).
//
// Kronecker (LoGra): each tracked linear layer ℓ gets k_ℓ = dim / L columns (L the number of
// tracked layers; dim must be a multiple of L), split as k_ℓ = k_o·k_i with the smaller factor
// the largest divisor of k_ℓ not above √k_ℓ, given to the narrower side (d_out or d_in + 1);
// φ_ℓ = P_outᵀ·DW·P_in flattened [k_o, k_i] row-major, P_out [d_out, k_o] entries ±1/√k_o and
// P_in [d_in + 1, k_i] entries ±1/√k_i (seeds per layer and side: hash.ts moduleSeed), and φ is
// the layers' blocks concatenated in layer order (c_attn, attn.c_proj, c_fc, mlp.c_proj).
import { InvalidInputError } from "../errors.ts";
import type { Gpt2Config } from "../gpt2/config.ts";
import { paramSpecs } from "../gpt2/params.ts";
import { LINEAR_MODULES, type LinearModule } from "../gpt2/taps.ts";
import { type TrackedModule, trackedModules } from "../influence/modules.ts";

export const PROJECTION_KINDS = ["dense", "kronecker"] as const;
export type ProjectionKind = typeof PROJECTION_KINDS[number];
export const PARAMETER_SELECTIONS = ["all", "mlp", "linear"] as const;
export type ParameterSelection = typeof PARAMETER_SELECTIONS[number];

export interface ProjectionSpec {
  kind: ProjectionKind;
  dim: number;
  seed: number;
}

/** The linear layers a selection tracks ("linear": all four of every block). */
export function selectedModules(config: Gpt2Config, selection: ParameterSelection) {
  if (selection === "all") throw new RangeError('"all" selects parameters, not layers');
  return trackedModules(config, selection === "mlp" ? "mlp" : "all");
}

/** The parameter names of a dense selection, in gradient-vector order, with their sizes. */
export function denseParameters(
  config: Gpt2Config,
  selection: ParameterSelection,
): { name: string; size: number }[] {
  const specs = paramSpecs(config);
  if (selection === "all") return specs.map((s) => ({ name: s.name, size: s.size }));
  const wanted = new Set(
    selectedModules(config, selection).flatMap((m) => [`${m.name}.weight`, `${m.name}.bias`]),
  );
  return specs.filter((s) => wanted.has(s.name)).map((s) => ({ name: s.name, size: s.size }));
}

export interface KroneckerLayer {
  module: TrackedModule;
  /** Index among all linear layers, 4·layer + position in LINEAR_MODULES (seeds). */
  linearIndex: number;
  ko: number;
  ki: number;
  /** First column of the layer's block in φ. */
  offset: number;
}

function linearIndex(name: string): number {
  const [, layer, ...rest] = name.split(".");
  return 4 * Number(layer) + LINEAR_MODULES.indexOf(rest.join(".") as LinearModule);
}

/** The Kronecker split of `dim` over a selection's layers; 400 naming projection.dim if none. */
export function kroneckerLayers(
  config: Gpt2Config,
  selection: ParameterSelection,
  dim: number,
): KroneckerLayer[] {
  if (selection === "all") {
    throw new InvalidInputError(
      'a Kronecker projection covers linear layers: use parameters "linear" or "mlp"',
      { field: "parameters" },
      "kronecker_needs_layers",
    );
  }
  const modules = selectedModules(config, selection);
  const L = modules.length;
  if (dim % L !== 0) {
    throw new InvalidInputError(
      `projection.dim ${dim} must be a multiple of the ${L} tracked layers (each gets dim / ${L})`,
      { field: "projection.dim", dim, layers: L },
      "dim_not_divisible",
    );
  }
  const per = dim / L;
  let small = Math.floor(Math.sqrt(per));
  while (per % small !== 0) small--;
  const large = per / small;
  return modules.map((module, i) => {
    const outWider = module.dOut >= module.cols;
    const ko = outWider ? large : small;
    const ki = outWider ? small : large;
    if (ko > module.dOut || ki > module.cols) {
      throw new InvalidInputError(
        `projection.dim ${dim} gives ${module.name} ${ko}×${ki} columns, more than its ` +
          `gradient's ${module.dOut}×${module.cols}: choose a smaller dim`,
        { field: "projection.dim", dim, module: module.name, ko, ki },
        "dim_too_large",
      );
    }
    return { module, linearIndex: linearIndex(module.name), ko, ki, offset: i * per };
  });
}

/** Parameters a selection covers (the largest dim a dense projection may ask for). */
export function selectionSize(config: Gpt2Config, selection: ParameterSelection): number {
  return denseParameters(config, selection).reduce((n, p) => n + p.size, 0);
}

/** Checks dim against the selection: 1 ≤ dim ≤ its parameter count (and the Kronecker split). */
export function checkDim(config: Gpt2Config, spec: ProjectionSpec, selection: ParameterSelection) {
  const size = selectionSize(config, selection);
  if (!Number.isInteger(spec.dim) || spec.dim < 1 || spec.dim > size) {
    throw new InvalidInputError(
      `projection.dim ${spec.dim} must be between 1 and the ${size} parameters selected`,
      { field: "projection.dim", dim: spec.dim, parameters: size },
      "bad_dim",
    );
  }
  if (spec.kind === "kronecker") kroneckerLayers(config, selection, spec.dim);
}
