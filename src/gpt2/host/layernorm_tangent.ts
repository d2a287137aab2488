// CPU port of shaders/gpt2_layernorm_tangent.wgsl: tangents of LayerNorm's forward and backward
// (`forward_tangent`, `backward_input_tangent`, `row_tangent_stats`, `backward_params_tangent`).
// Layout (flat f32, each from its uniform offset): x, xDot, dy, dyDot, yDot, dxDot [rows, d]
// row-major; w [d]; wDot, bDot [d] in one tangent buffer; stats = [mean (rows) | rstd (rows)];
// rowStats = [mean(ẋ) (rows) | mean(x̂⊙ẋ) (rows)] (scratch written by row_tangent_stats, read by
// backward_params_tangent as f32); dwDot, dbDot [d] in one gradient-tangent buffer, accumulated.
// x̂ = (x − mean)·rstd, ẋ̂ = rstd·(ẋ − mean(ẋ) − x̂·mean(x̂⊙ẋ)). Sums in the WGSL's order (row
// kernels over columns, the params kernel over rows per column), in float64, stored as f32.
import type { HostCall, HostKernelTable } from "../../gpu/host/host_kernel.ts";

let xhatScratch = new Float64Array(0);
let xhatDotScratch = new Float64Array(0);
let accScratch = new Float64Array(0);

function rowScratch(d: number): void {
  if (xhatScratch.length < d) {
    xhatScratch = new Float64Array(d);
    xhatDotScratch = new Float64Array(d);
  }
}

function forwardTangent(call: HostCall): void {
  const [rows, d, xOff, wOff, statsOff, xDotOff, wDotOff, bDotOff, yDotOff] = call.u;
  const x = call.buffers[0].f32, w = call.buffers[1].f32, stats = call.buffers[2].f32;
  const xDot = call.buffers[3].f32, wbDot = call.buffers[4].f32, yDot = call.buffers[5].f32;
  rowScratch(d);
  const xhat = xhatScratch;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    const mean = stats[statsOff + r];
    const rstd = stats[statsOff + rows + r];
    const xr = xOff + base, xdr = xDotOff + base, yr = yDotOff + base;
    let meanXDot = 0, meanXhatXDot = 0;
    for (let c = 0; c < d; c++) {
      const xh = (x[xr + c] - mean) * rstd;
      const xd = xDot[xdr + c];
      xhat[c] = xh;
      meanXDot += xd;
      meanXhatXDot += xh * xd;
    }
    meanXDot /= d;
    meanXhatXDot /= d;
    for (let c = 0; c < d; c++) {
      const xh = xhat[c];
      const xhatDot = rstd * (xDot[xdr + c] - meanXDot - xh * meanXhatXDot);
      yDot[yr + c] = wbDot[wDotOff + c] * xh + w[wOff + c] * xhatDot + wbDot[bDotOff + c];
    }
  }
}

function backwardInputTangent(call: HostCall): void {
  const [rows, d, xOff, wOff, statsOff, dyOff, xDotOff, wDotOff, dyDotOff, dxDotOff] = call.u;
  const x = call.buffers[0].f32, w = call.buffers[1].f32, stats = call.buffers[2].f32;
  const dy = call.buffers[3].f32, xDot = call.buffers[4].f32, wDot = call.buffers[5].f32;
  const dyDot = call.buffers[6].f32, dxDot = call.buffers[7].f32;
  rowScratch(d);
  const xhat = xhatScratch, xhatDot = xhatDotScratch;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    const mean = stats[statsOff + r];
    const rstd = stats[statsOff + rows + r];
    const xr = xOff + base, xdr = xDotOff + base, dyr = dyOff + base, dydr = dyDotOff + base;
    let meanXDot = 0, meanXhatXDot = 0;
    for (let c = 0; c < d; c++) {
      const xh = (x[xr + c] - mean) * rstd;
      const xd = xDot[xdr + c];
      xhat[c] = xh;
      meanXDot += xd;
      meanXhatXDot += xh * xd;
    }
    meanXDot /= d;
    meanXhatXDot /= d;
    // mean(g), mean(x̂⊙g), mean(ġ), mean(ẋ̂⊙g + x̂⊙ġ).
    let meanG = 0, meanGX = 0, meanGDot = 0, meanGXDot = 0;
    for (let c = 0; c < d; c++) {
      const xh = xhat[c];
      const xhd = rstd * (xDot[xdr + c] - meanXDot - xh * meanXhatXDot);
      xhatDot[c] = xhd;
      const dyc = dy[dyr + c];
      const wc = w[wOff + c];
      const g = wc * dyc;
      const gDot = wDot[wDotOff + c] * dyc + wc * dyDot[dydr + c];
      meanG += g;
      meanGX += g * xh;
      meanGDot += gDot;
      meanGXDot += xhd * g + xh * gDot;
    }
    meanG /= d;
    meanGX /= d;
    meanGDot /= d;
    meanGXDot /= d;
    const rstdDotOverRstd = -rstd * meanXhatXDot;
    const out = dxDotOff + base;
    for (let c = 0; c < d; c++) {
      const xh = xhat[c];
      const dyc = dy[dyr + c];
      const wc = w[wOff + c];
      const g = wc * dyc;
      const gDot = wDot[wDotOff + c] * dyc + wc * dyDot[dydr + c];
      const dx = rstd * (g - meanG - xh * meanGX);
      dxDot[out + c] = rstdDotOverRstd * dx +
        rstd * (gDot - meanGDot - xhatDot[c] * meanGX - xh * meanGXDot);
    }
  }
}

function rowTangentStats(call: HostCall): void {
  const [rows, d, xOff, statsOff, xDotOff, rowStatsOff] = call.u;
  const x = call.buffers[0].f32, stats = call.buffers[1].f32;
  const xDot = call.buffers[2].f32, rowStats = call.buffers[3].f32;
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    const mean = stats[statsOff + r];
    const rstd = stats[statsOff + rows + r];
    const xr = xOff + base, xdr = xDotOff + base;
    let meanXDot = 0, meanXhatXDot = 0;
    for (let c = 0; c < d; c++) {
      const xd = xDot[xdr + c];
      meanXDot += xd;
      meanXhatXDot += (x[xr + c] - mean) * rstd * xd;
    }
    rowStats[rowStatsOff + r] = meanXDot / d;
    rowStats[rowStatsOff + rows + r] = meanXhatXDot / d;
  }
}

// One sum per column over rows in row order, as the WGSL's per-column invocations; swept row by
// row here so that memory is read contiguously.
function backwardParamsTangent(call: HostCall): void {
  const [rows, d, xOff, statsOff, dyOff, xDotOff, dyDotOff, rowStatsOff, dwDotOff, dbDotOff] =
    call.u;
  const x = call.buffers[0].f32, stats = call.buffers[1].f32, dy = call.buffers[2].f32;
  const xDot = call.buffers[3].f32, dyDot = call.buffers[4].f32;
  const rowStats = call.buffers[5].f32, gradsDot = call.buffers[6].f32;
  if (accScratch.length < 2 * d) accScratch = new Float64Array(2 * d);
  const acc = accScratch;
  acc.fill(0, 0, 2 * d);
  for (let r = 0; r < rows; r++) {
    const base = r * d;
    const mean = stats[statsOff + r];
    const rstd = stats[statsOff + rows + r];
    const meanXDot = rowStats[rowStatsOff + r];
    const meanXhatXDot = rowStats[rowStatsOff + rows + r];
    const xr = xOff + base, xdr = xDotOff + base, dyr = dyOff + base, dydr = dyDotOff + base;
    for (let c = 0; c < d; c++) {
      const xh = (x[xr + c] - mean) * rstd;
      const xhd = rstd * (xDot[xdr + c] - meanXDot - xh * meanXhatXDot);
      const dyd = dyDot[dydr + c];
      acc[c] += dyd * xh + dy[dyr + c] * xhd;
      acc[d + c] += dyd;
    }
  }
  for (let c = 0; c < d; c++) {
    gradsDot[dwDotOff + c] += acc[c];
    gradsDot[dbDotOff + c] += acc[d + c];
  }
}

export const layerNormTangentHostKernels: HostKernelTable = {
  "gpt2_layernorm_tangent#forward_tangent": forwardTangent,
  "gpt2_layernorm_tangent#backward_input_tangent": backwardInputTangent,
  "gpt2_layernorm_tangent#row_tangent_stats": rowTangentStats,
  "gpt2_layernorm_tangent#backward_params_tangent": backwardParamsTangent,
};
