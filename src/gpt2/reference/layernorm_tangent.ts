// Float64 reference of LayerNorm's tangents (shaders/gpt2_layernorm_tangent.wgsl): the
// directional derivatives of the forward and of the backward (src/gpt2/reference/layernorm.ts)
// along tangents ẋ, ẇ, ḃ, ḋy of their inputs. With x̂ = (x - mean)·rstd per row:
//   ṙstd = -rstd²·mean(x̂⊙ẋ)      ẋ̂ = rstd·(ẋ - mean(ẋ) - x̂·mean(x̂⊙ẋ))
// (the mean of x - mean is 0, so eps enters only through rstd).
import type { LayerNormCache } from "./layernorm.ts";

/** ẋ̂ of one row: rstd·(ẋ - mean(ẋ) - x̂·mean(x̂⊙ẋ)), and mean(x̂⊙ẋ) (ṙstd = -rstd²·that). */
function normalizedTangent(
  x: ArrayLike<number>,
  cache: LayerNormCache,
  xDot: ArrayLike<number>,
  r: number,
  d: number,
): { xhat: Float64Array; xhatDot: Float64Array; meanXhatXDot: number } {
  const m = cache.mean[r], s = cache.rstd[r];
  const xhat = new Float64Array(d);
  let meanXDot = 0, meanXhatXDot = 0;
  for (let c = 0; c < d; c++) {
    xhat[c] = (x[r * d + c] - m) * s;
    meanXDot += xDot[r * d + c];
    meanXhatXDot += xhat[c] * xDot[r * d + c];
  }
  meanXDot /= d;
  meanXhatXDot /= d;
  const xhatDot = Float64Array.from(
    xhat,
    (xh, c) => s * (xDot[r * d + c] - meanXDot - xh * meanXhatXDot),
  );
  return { xhat, xhatDot, meanXhatXDot };
}

/** ẏ = ẇ⊙x̂ + w⊙ẋ̂ + ḃ: the tangent of layerNorm's y. */
export function layerNormTangent(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  cache: LayerNormCache,
  xDot: ArrayLike<number>,
  wDot: ArrayLike<number>,
  bDot: ArrayLike<number>,
  rows: number,
  d: number,
): Float64Array {
  const yDot = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const { xhat, xhatDot } = normalizedTangent(x, cache, xDot, r, d);
    for (let c = 0; c < d; c++) {
      yDot[r * d + c] = wDot[c] * xhat[c] + w[c] * xhatDot[c] + bDot[c];
    }
  }
  return yDot;
}

/**
 * The tangent of layerNormBackward: ḋx (returned; without any residual term) and ḋw, ḋb
 * (accumulated, like layerNormBackward's dw, db). With g = w⊙dy, ġ = ẇ⊙dy + w⊙ḋy and
 * dx = rstd·(g - mean(g) - x̂·mean(x̂⊙g)):
 *   ḋx = (ṙstd/rstd)·dx + rstd·(ġ - mean(ġ) - ẋ̂·mean(x̂⊙g) - x̂·mean(ẋ̂⊙g + x̂⊙ġ))
 *   ḋw = Σ_r ḋy⊙x̂ + dy⊙ẋ̂      ḋb = Σ_r ḋy
 */
export function layerNormBackwardTangent(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  cache: LayerNormCache,
  dy: ArrayLike<number>,
  xDot: ArrayLike<number>,
  wDot: ArrayLike<number>,
  dyDot: ArrayLike<number>,
  rows: number,
  d: number,
  dwDot: Float64Array,
  dbDot: Float64Array,
): Float64Array {
  const dxDot = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    const s = cache.rstd[r];
    const { xhat, xhatDot, meanXhatXDot } = normalizedTangent(x, cache, xDot, r, d);
    const g = new Float64Array(d), gDot = new Float64Array(d);
    let meanG = 0, meanGX = 0, meanGDot = 0, meanGXDot = 0;
    for (let c = 0; c < d; c++) {
      const i = r * d + c;
      g[c] = w[c] * dy[i];
      gDot[c] = wDot[c] * dy[i] + w[c] * dyDot[i];
      meanG += g[c];
      meanGX += g[c] * xhat[c];
      meanGDot += gDot[c];
      meanGXDot += xhatDot[c] * g[c] + xhat[c] * gDot[c];
      dwDot[c] += dyDot[i] * xhat[c] + dy[i] * xhatDot[c];
      dbDot[c] += dyDot[i];
    }
    meanG /= d;
    meanGX /= d;
    meanGDot /= d;
    meanGXDot /= d;
    // ṙstd/rstd = -rstd·mean(x̂⊙ẋ).
    const rstdDotOverRstd = -s * meanXhatXDot;
    for (let c = 0; c < d; c++) {
      const dx = s * (g[c] - meanG - xhat[c] * meanGX);
      dxDot[r * d + c] = rstdDotOverRstd * dx +
        s * (gDot[c] - meanGDot - xhatDot[c] * meanGX - xhat[c] * meanGXDot);
    }
  }
  return dxDot;
}
