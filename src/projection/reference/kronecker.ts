// Float64 references of the Kronecker (LoGra) projection (src/projection/kernels/kronecker.ts and
// the pipeline around it): the outer-product sum over tokens, and P_outᵀ·DW·P_in from an explicit
// gradient matrix DW [dOut, cols] (bias last, src/influence/modules.ts's layout).
import { projectionMatrix } from "./dense.ts";

/** phi [B, ko·ki]: Σ_t sp[b, t, :] ⊗ ap[b, t, :]. */
export function kroneckerOuterSumReference(
  sp: ArrayLike<number>,
  ap: ArrayLike<number>,
  B: number,
  T: number,
  ko: number,
  ki: number,
): Float64Array {
  const out = new Float64Array(B * ko * ki);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const row = b * T + t;
      for (let o = 0; o < ko; o++) {
        const s = sp[row * ko + o];
        for (let i = 0; i < ki; i++) out[(b * ko + o) * ki + i] += s * ap[row * ki + i];
      }
    }
  }
  return out;
}

export interface KroneckerSides {
  /** Seeds of P_in [cols, ki] and P_out [dOut, ko]. */
  seedIn: number;
  seedOut: number;
  ki: number;
  ko: number;
}

/** P_outᵀ·DW·P_in [ko, ki] for DW [dOut, cols], P entries ±1/√ki and ±1/√ko. */
export function projectGradientMatrixReference(
  dw: ArrayLike<number>,
  dOut: number,
  cols: number,
  sides: KroneckerSides,
): Float64Array {
  const { ki, ko } = sides;
  const pIn = projectionMatrix(sides.seedIn, cols, ki, 1 / Math.sqrt(ki));
  const pOut = projectionMatrix(sides.seedOut, dOut, ko, 1 / Math.sqrt(ko));
  const right = new Float64Array(dOut * ki); // DW·P_in
  for (let o = 0; o < dOut; o++) {
    for (let c = 0; c < cols; c++) {
      const v = dw[o * cols + c];
      for (let i = 0; i < ki; i++) right[o * ki + i] += v * pIn[c * ki + i];
    }
  }
  const out = new Float64Array(ko * ki);
  for (let o = 0; o < dOut; o++) {
    for (let a = 0; a < ko; a++) {
      const p = pOut[o * ko + a];
      for (let i = 0; i < ki; i++) out[a * ki + i] += p * right[o * ki + i];
    }
  }
  return out;
}
