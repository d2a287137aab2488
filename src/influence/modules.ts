// The linear layers whose curvature influence functions approximate ("tracked modules"), named as
// Hugging Face names GPT-2's Conv1D layers, with the shapes of their gradient matrices.
//
// Gradient-matrix layout (shared by the reference and the GPU kernels): a module's per-sequence
// gradient DW is [dOut, cols] row-major with cols = dIn + 1, the nn.Linear orientation
// (kronfluence converts GPT-2's Conv1D to nn.Linear), and the bias as the LAST column:
//   DW[o, i]   = ∂L/∂W_hf[i, o]   (i < dIn; W_hf is the Conv1D weight [dIn, dOut])
//   DW[o, dIn] = ∂L/∂b[o]
// so DW = Σ_t s_t a_tᵀ with a_t = [input_t; 1] (cols) and s_t = ∂L/∂output_t (dOut).
import { dimsOf, type Gpt2Config } from "../gpt2/config.ts";

/** "mlp": h.{i}.mlp.c_fc and h.{i}.mlp.c_proj; "all": also h.{i}.attn.c_attn, h.{i}.attn.c_proj. */
export type ModuleSelection = "mlp" | "all";

export interface TrackedModule {
  /** HF module name, e.g. "h.0.mlp.c_fc"; its parameters are `${name}.weight` / `${name}.bias`. */
  name: string;
  /** Input width (without the appended 1). */
  dIn: number;
  /** Output width. */
  dOut: number;
  /** dIn + 1: the bias folded in as an appended 1. */
  cols: number;
}

/** The tracked modules in layer order; within a layer c_attn, attn.c_proj, c_fc, mlp.c_proj. */
export function trackedModules(config: Gpt2Config, selection: ModuleSelection): TrackedModule[] {
  if (selection !== "mlp" && selection !== "all") {
    throw new RangeError(`module selection "${selection}" must be "mlp" or "all"`);
  }
  const { d, L, f } = dimsOf(config);
  const out: TrackedModule[] = [];
  const add = (name: string, dIn: number, dOut: number) =>
    out.push({ name, dIn, dOut, cols: dIn + 1 });
  for (let l = 0; l < L; l++) {
    if (selection === "all") {
      add(`h.${l}.attn.c_attn`, d, 3 * d);
      add(`h.${l}.attn.c_proj`, d, d);
    }
    add(`h.${l}.mlp.c_fc`, d, f);
    add(`h.${l}.mlp.c_proj`, f, d);
  }
  return out;
}

/**
 * A module's gradient matrix [dOut, dIn + 1] from HF-layout parameter gradients (Conv1D weight
 * [dIn, dOut] and bias [dOut]).
 */
export function gradientMatrixFromParams(
  module: TrackedModule,
  weightGrad: ArrayLike<number>,
  biasGrad: ArrayLike<number>,
): Float64Array {
  const { dIn, dOut, cols } = module;
  if (weightGrad.length !== dIn * dOut || biasGrad.length !== dOut) {
    throw new RangeError(`${module.name}: gradient sizes do not match [${dIn}, ${dOut}]`);
  }
  const g = new Float64Array(dOut * cols);
  for (let o = 0; o < dOut; o++) {
    for (let i = 0; i < dIn; i++) g[o * cols + i] = weightGrad[i * dOut + o];
    g[o * cols + dIn] = biasGrad[o];
  }
  return g;
}
