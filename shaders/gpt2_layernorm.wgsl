// LayerNorm over the last axis, forward and backward (llm.c style).
// Layout: x, y, dy, dres, dx are [rows, d] row-major from their offsets; the weight and bias
// [d] live in the flat parameter buffer (wOffset, bOffset) and their gradients in the flat
// gradient buffer (dwOffset, dbOffset); stats = [mean (rows) | rstd (rows)] from statsOffset.
// `forward`          one invocation per row: y = (x - mean)·rstd·w + b, saves mean and rstd.
// `backward_input`   one invocation per row: dx = dres + rstd·(g - mean(g) - x̂·mean(g·x̂)),
//                    g = dy·w, x̂ = (x - mean)·rstd; dres (the residual stream's gradient) is
//                    added only when hasResidual is 1 (otherwise its binding is unused data).
// `backward_params`  one invocation per column: dw[c] += Σ_r dy·x̂, db[c] += Σ_r dy. Rows are
//                    summed in a fixed order (deterministic, no atomics).
// Grid: 1-D over rows (or columns), folded into x/y.

struct ForwardParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  wOffset: u32,
  bOffset: u32,
  yOffset: u32,
  statsOffset: u32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> fp: ForwardParams;
@group(0) @binding(1) var<storage, read> x_in: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats_out: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = flat_index(gid, groups);
  if (r >= fp.rows) {
    return;
  }
  let d = fp.d;
  let base = fp.xOffset + r * d;
  var sum = 0.0;
  for (var c = 0u; c < d; c++) {
    sum += x_in[base + c];
  }
  let mean = sum / f32(d);
  // Two-pass variance: no cancellation for rows with a large mean.
  var sq = 0.0;
  for (var c = 0u; c < d; c++) {
    let z = x_in[base + c] - mean;
    sq += z * z;
  }
  let rstd = inverseSqrt(sq / f32(d) + fp.eps);
  for (var c = 0u; c < d; c++) {
    let xhat = (x_in[base + c] - mean) * rstd;
    y[fp.yOffset + r * d + c] = xhat * weights[fp.wOffset + c] + weights[fp.bOffset + c];
  }
  stats_out[fp.statsOffset + r] = mean;
  stats_out[fp.statsOffset + fp.rows + r] = rstd;
}

struct InputParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  wOffset: u32,
  dyOffset: u32,
  statsOffset: u32,
  dresOffset: u32,
  dxOffset: u32,
  hasResidual: u32,
}

@group(0) @binding(0) var<uniform> ip: InputParams;
@group(0) @binding(1) var<storage, read> x_b: array<f32>;
@group(0) @binding(2) var<storage, read> weights_b: array<f32>;
@group(0) @binding(3) var<storage, read> dy_in: array<f32>;
@group(0) @binding(4) var<storage, read> stats_in: array<f32>;
@group(0) @binding(5) var<storage, read> dres: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn backward_input(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = flat_index(gid, groups);
  if (r >= ip.rows) {
    return;
  }
  let d = ip.d;
  let mean = stats_in[ip.statsOffset + r];
  let rstd = stats_in[ip.statsOffset + ip.rows + r];
  var meanG = 0.0;
  var meanGX = 0.0;
  for (var c = 0u; c < d; c++) {
    let xhat = (x_b[ip.xOffset + r * d + c] - mean) * rstd;
    let g = dy_in[ip.dyOffset + r * d + c] * weights_b[ip.wOffset + c];
    meanG += g;
    meanGX += g * xhat;
  }
  meanG /= f32(d);
  meanGX /= f32(d);
  for (var c = 0u; c < d; c++) {
    let xhat = (x_b[ip.xOffset + r * d + c] - mean) * rstd;
    let g = dy_in[ip.dyOffset + r * d + c] * weights_b[ip.wOffset + c];
    var v = rstd * (g - meanG - xhat * meanGX);
    if (ip.hasResidual == 1u) {
      v += dres[ip.dresOffset + r * d + c];
    }
    dx[ip.dxOffset + r * d + c] = v;
  }
}

struct ParamGradParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  dyOffset: u32,
  statsOffset: u32,
  dwOffset: u32,
  dbOffset: u32,
}

@group(0) @binding(0) var<uniform> pp: ParamGradParams;
@group(0) @binding(1) var<storage, read> x_p: array<f32>;
@group(0) @binding(2) var<storage, read> dy_p: array<f32>;
@group(0) @binding(3) var<storage, read> stats_p: array<f32>;
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(WG)
fn backward_params(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let c = flat_index(gid, groups);
  if (c >= pp.d) {
    return;
  }
  var dw = 0.0;
  var db = 0.0;
  for (var r = 0u; r < pp.rows; r++) {
    let xhat = (x_p[pp.xOffset + r * pp.d + c] - stats_p[pp.statsOffset + r]) *
      stats_p[pp.statsOffset + pp.rows + r];
    let g = dy_p[pp.dyOffset + r * pp.d + c];
    dw += g * xhat;
    db += g;
  }
  grads[pp.dwOffset + c] += dw;
  grads[pp.dbOffset + c] += db;
}
