// CPU port of shaders/gpt2_layernorm.wgsl: LayerNorm over the last axis, `forward`,
// `backward_input` and `backward_params` (llm.c style). Layouts (elements, from each offset):
// x, y, dy, dres, dx [rows, d] row-major; weight and bias [d] in the flat parameter buffer
// (wOffset, bOffset), their gradients [d] in the flat gradient buffer (dwOffset, dbOffset,
// accumulated into); stats = [mean (rows) | rstd (rows)] from statsOffset. Sums run in float64,
// rows in order; backward_params walks rows outermost (same per-column order as the GPU's
// one invocation per column) so that it reads x and dy contiguously.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered } from "../../gpu/host/grid.ts";
import { type HostPart, type HostSplitTable, partRange, WHOLE } from "../../gpu/host/pool/split.ts";

let scratch = new Float64Array(256);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** `forward`: y = (x - mean)·rstd·w + b per row; saves mean and rstd. */
function forward(call: HostCall, part: HostPart): void {
  const [xBuf, wBuf, yBuf, statsBuf] = call.buffers;
  const x = xBuf.f32, weights = wBuf.f32, y = yBuf.f32, stats = statsBuf.f32;
  const [rowsAll, d, xOffset, wOffset, bOffset, yOffset, statsOffset] = call.u;
  const eps = call.f[0];
  const [first, last] = partRange(covered(call, rowsAll), part);
  for (let r = first; r < last; r++) {
    const base = xOffset + r * d, end = base + d;
    let sum = 0;
    for (let i = base; i < end; i++) sum += x[i];
    const mean = sum / d;
    let sq = 0;
    for (let i = base; i < end; i++) {
      const z = x[i] - mean;
      sq += z * z;
    }
    const rstd = 1 / Math.sqrt(sq / d + eps);
    const out = yOffset + r * d;
    for (let c = 0; c < d; c++) {
      y[out + c] = (x[base + c] - mean) * rstd * weights[wOffset + c] + weights[bOffset + c];
    }
    stats[statsOffset + r] = mean;
    stats[statsOffset + rowsAll + r] = rstd;
  }
}

/** `backward_input`: dx = (dres +) rstd·(g - mean(g) - x̂·mean(g·x̂)), g = dy·w. */
function backwardInput(call: HostCall, part: HostPart): void {
  const [xBuf, wBuf, dyBuf, statsBuf, dresBuf, dxBuf] = call.buffers;
  const x = xBuf.f32, weights = wBuf.f32, dy = dyBuf.f32, stats = statsBuf.f32;
  const dres = dresBuf.f32, dx = dxBuf.f32;
  const [
    rowsAll,
    d,
    xOffset,
    wOffset,
    dyOffset,
    statsOffset,
    dresOffset,
    dxOffset,
    hasResidual,
  ] = call.u;
  const [first, last] = partRange(covered(call, rowsAll), part);
  // [x̂ (d) | g (d)]
  const work = scratchOf(2 * d);
  for (let r = first; r < last; r++) {
    const mean = stats[statsOffset + r];
    const rstd = stats[statsOffset + rowsAll + r];
    const xBase = xOffset + r * d, dyBase = dyOffset + r * d;
    let meanG = 0, meanGX = 0;
    for (let c = 0; c < d; c++) {
      const xhat = (x[xBase + c] - mean) * rstd;
      const g = dy[dyBase + c] * weights[wOffset + c];
      work[c] = xhat;
      work[d + c] = g;
      meanG += g;
      meanGX += g * xhat;
    }
    meanG /= d;
    meanGX /= d;
    const out = dxOffset + r * d;
    if (hasResidual === 1) {
      const res = dresOffset + r * d;
      for (let c = 0; c < d; c++) {
        dx[out + c] = rstd * (work[d + c] - meanG - work[c] * meanGX) + dres[res + c];
      }
    } else {
      for (let c = 0; c < d; c++) {
        dx[out + c] = rstd * (work[d + c] - meanG - work[c] * meanGX);
      }
    }
  }
}

/** `backward_params`: dw[c] += Σ_r dy·x̂, db[c] += Σ_r dy. */
function backwardParams(call: HostCall, part: HostPart): void {
  const [xBuf, dyBuf, statsBuf, gradsBuf] = call.buffers;
  const x = xBuf.f32, dy = dyBuf.f32, stats = statsBuf.f32, grads = gradsBuf.f32;
  const [rows, d, xOffset, dyOffset, statsOffset, dwOffset, dbOffset] = call.u;
  // A part is a range of columns, each summed over every row in order, as whole.
  const [c0, c1] = partRange(covered(call, d), part);
  const cols = c1 - c0;
  // [dw (cols) | db (cols)]
  const work = scratchOf(2 * cols);
  work.fill(0, 0, 2 * cols);
  for (let r = 0; r < rows; r++) {
    const mean = stats[statsOffset + r];
    const rstd = stats[statsOffset + rows + r];
    const xBase = xOffset + r * d + c0, dyBase = dyOffset + r * d + c0;
    for (let c = 0; c < cols; c++) {
      const g = dy[dyBase + c];
      work[c] += g * ((x[xBase + c] - mean) * rstd);
      work[cols + c] += g;
    }
  }
  for (let c = 0; c < cols; c++) {
    grads[dwOffset + c0 + c] += work[c];
    grads[dbOffset + c0 + c] += work[cols + c];
  }
}

export const layernormKernels = {
  "gpt2_layernorm#forward": (call: HostCall) => forward(call, WHOLE),
  "gpt2_layernorm#backward_input": (call: HostCall) => backwardInput(call, WHOLE),
  "gpt2_layernorm#backward_params": (call: HostCall) => backwardParams(call, WHOLE),
} as const;

/** By rows (forward, backward_input) or columns (backward_params), on several threads. */
export const layernormSplitKernels: HostSplitTable = {
  "gpt2_layernorm#forward": forward,
  "gpt2_layernorm#backward_input": backwardInput,
  "gpt2_layernorm#backward_params": backwardParams,
};
