// Tangents (forward-mode derivatives) of LayerNorm's forward and backward
// (shaders/gpt2_layernorm.wgsl) along tangents ẋ, ẇ, ḃ, ḋy of their inputs.
// Layout: x, xDot, dy, dyDot, yDot, dxDot are [rows, d] row-major from their offsets; w [d] from
// wOffset (the parameter buffer); wDot, bDot [d] from wDotOffset, bDotOffset (one tangent
// buffer, as w and b share one); stats = [mean (rows) | rstd (rows)] from statsOffset, as the
// forward wrote them; rowStats = [mean(ẋ) (rows) | mean(x̂⊙ẋ) (rows)] from rowStatsOffset
// (scratch, written by `row_tangent_stats` for `backward_params_tangent`); dwDot, dbDot [d] from
// dwDotOffset, dbDotOffset in one gradient-tangent buffer.
// With x̂ = (x - mean)·rstd, ṙstd = -rstd²·mean(x̂⊙ẋ) and ẋ̂ = rstd·(ẋ - mean(ẋ) - x̂·mean(x̂⊙ẋ)):
// `forward_tangent`          one invocation per row: ẏ = ẇ⊙x̂ + w⊙ẋ̂ + ḃ.
// `backward_input_tangent`   one invocation per row: the tangent of dx = rstd·(g - mean(g) -
//                            x̂·mean(x̂⊙g)), g = w⊙dy:
//                            ḋx = -rstd·mean(x̂⊙ẋ)·dx + rstd·(ġ - mean(ġ) - ẋ̂·mean(x̂⊙g)
//                                 - x̂·mean(ẋ̂⊙g + x̂⊙ġ)),   ġ = ẇ⊙dy + w⊙ḋy.
// `row_tangent_stats`        one invocation per row: rowStats = (mean(ẋ), mean(x̂⊙ẋ)).
// `backward_params_tangent`  one invocation per column: ḋw[c] += Σ_r ḋy⊙x̂ + dy⊙ẋ̂,
//                            ḋb[c] += Σ_r ḋy (accumulated, like the primal's dw, db).
// Every reduction runs in a fixed order (deterministic, no atomics).
// Grid: 1-D over rows (or columns), folded into x/y.

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

struct ForwardParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  wOffset: u32,
  statsOffset: u32,
  xDotOffset: u32,
  wDotOffset: u32,
  bDotOffset: u32,
  yDotOffset: u32,
}

@group(0) @binding(0) var<uniform> fp: ForwardParams;
@group(0) @binding(1) var<storage, read> f_x: array<f32>;
@group(0) @binding(2) var<storage, read> f_w: array<f32>;
@group(0) @binding(3) var<storage, read> f_stats: array<f32>;
@group(0) @binding(4) var<storage, read> f_xDot: array<f32>;
@group(0) @binding(5) var<storage, read> f_wbDot: array<f32>;
@group(0) @binding(6) var<storage, read_write> f_yDot: array<f32>;

@compute @workgroup_size(WG)
fn forward_tangent(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = flat_index(gid, groups);
  if (r >= fp.rows) {
    return;
  }
  let d = fp.d;
  let base = r * d;
  let mean = f_stats[fp.statsOffset + r];
  let rstd = f_stats[fp.statsOffset + fp.rows + r];
  var meanXDot = 0.0;
  var meanXhatXDot = 0.0;
  for (var c = 0u; c < d; c++) {
    let xhat = (f_x[fp.xOffset + base + c] - mean) * rstd;
    let xDot = f_xDot[fp.xDotOffset + base + c];
    meanXDot += xDot;
    meanXhatXDot += xhat * xDot;
  }
  meanXDot /= f32(d);
  meanXhatXDot /= f32(d);
  for (var c = 0u; c < d; c++) {
    let xhat = (f_x[fp.xOffset + base + c] - mean) * rstd;
    let xhatDot = rstd * (f_xDot[fp.xDotOffset + base + c] - meanXDot - xhat * meanXhatXDot);
    f_yDot[fp.yDotOffset + base + c] = f_wbDot[fp.wDotOffset + c] * xhat +
      f_w[fp.wOffset + c] * xhatDot + f_wbDot[fp.bDotOffset + c];
  }
}

struct InputParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  wOffset: u32,
  statsOffset: u32,
  dyOffset: u32,
  xDotOffset: u32,
  wDotOffset: u32,
  dyDotOffset: u32,
  dxDotOffset: u32,
}

@group(0) @binding(0) var<uniform> ip: InputParams;
@group(0) @binding(1) var<storage, read> i_x: array<f32>;
@group(0) @binding(2) var<storage, read> i_w: array<f32>;
@group(0) @binding(3) var<storage, read> i_stats: array<f32>;
@group(0) @binding(4) var<storage, read> i_dy: array<f32>;
@group(0) @binding(5) var<storage, read> i_xDot: array<f32>;
@group(0) @binding(6) var<storage, read> i_wDot: array<f32>;
@group(0) @binding(7) var<storage, read> i_dyDot: array<f32>;
@group(0) @binding(8) var<storage, read_write> i_dxDot: array<f32>;

@compute @workgroup_size(WG)
fn backward_input_tangent(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = flat_index(gid, groups);
  if (r >= ip.rows) {
    return;
  }
  let d = ip.d;
  let base = r * d;
  let mean = i_stats[ip.statsOffset + r];
  let rstd = i_stats[ip.statsOffset + ip.rows + r];
  var meanXDot = 0.0;
  var meanXhatXDot = 0.0;
  for (var c = 0u; c < d; c++) {
    let xhat = (i_x[ip.xOffset + base + c] - mean) * rstd;
    let xDot = i_xDot[ip.xDotOffset + base + c];
    meanXDot += xDot;
    meanXhatXDot += xhat * xDot;
  }
  meanXDot /= f32(d);
  meanXhatXDot /= f32(d);
  // mean(g), mean(x̂⊙g), mean(ġ), mean(ẋ̂⊙g + x̂⊙ġ).
  var meanG = 0.0;
  var meanGX = 0.0;
  var meanGDot = 0.0;
  var meanGXDot = 0.0;
  for (var c = 0u; c < d; c++) {
    let xhat = (i_x[ip.xOffset + base + c] - mean) * rstd;
    let xhatDot = rstd * (i_xDot[ip.xDotOffset + base + c] - meanXDot - xhat * meanXhatXDot);
    let dy = i_dy[ip.dyOffset + base + c];
    let w = i_w[ip.wOffset + c];
    let g = w * dy;
    let gDot = i_wDot[ip.wDotOffset + c] * dy + w * i_dyDot[ip.dyDotOffset + base + c];
    meanG += g;
    meanGX += g * xhat;
    meanGDot += gDot;
    meanGXDot += xhatDot * g + xhat * gDot;
  }
  meanG /= f32(d);
  meanGX /= f32(d);
  meanGDot /= f32(d);
  meanGXDot /= f32(d);
  let rstdDotOverRstd = -rstd * meanXhatXDot;
  for (var c = 0u; c < d; c++) {
    let xhat = (i_x[ip.xOffset + base + c] - mean) * rstd;
    let xhatDot = rstd * (i_xDot[ip.xDotOffset + base + c] - meanXDot - xhat * meanXhatXDot);
    let dy = i_dy[ip.dyOffset + base + c];
    let w = i_w[ip.wOffset + c];
    let g = w * dy;
    let gDot = i_wDot[ip.wDotOffset + c] * dy + w * i_dyDot[ip.dyDotOffset + base + c];
    let dx = rstd * (g - meanG - xhat * meanGX);
    i_dxDot[ip.dxDotOffset + base + c] = rstdDotOverRstd * dx +
      rstd * (gDot - meanGDot - xhatDot * meanGX - xhat * meanGXDot);
  }
}

struct RowStatsParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  statsOffset: u32,
  xDotOffset: u32,
  rowStatsOffset: u32,
}

@group(0) @binding(0) var<uniform> sp: RowStatsParams;
@group(0) @binding(1) var<storage, read> s_x: array<f32>;
@group(0) @binding(2) var<storage, read> s_stats: array<f32>;
@group(0) @binding(3) var<storage, read> s_xDot: array<f32>;
@group(0) @binding(4) var<storage, read_write> s_rowStats: array<f32>;

// The same sums, in the same order, as the row kernels above.
@compute @workgroup_size(WG)
fn row_tangent_stats(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = flat_index(gid, groups);
  if (r >= sp.rows) {
    return;
  }
  let d = sp.d;
  let base = r * d;
  let mean = s_stats[sp.statsOffset + r];
  let rstd = s_stats[sp.statsOffset + sp.rows + r];
  var meanXDot = 0.0;
  var meanXhatXDot = 0.0;
  for (var c = 0u; c < d; c++) {
    let xhat = (s_x[sp.xOffset + base + c] - mean) * rstd;
    let xDot = s_xDot[sp.xDotOffset + base + c];
    meanXDot += xDot;
    meanXhatXDot += xhat * xDot;
  }
  s_rowStats[sp.rowStatsOffset + r] = meanXDot / f32(d);
  s_rowStats[sp.rowStatsOffset + sp.rows + r] = meanXhatXDot / f32(d);
}

struct ParamParams {
  rows: u32,
  d: u32,
  xOffset: u32,
  statsOffset: u32,
  dyOffset: u32,
  xDotOffset: u32,
  dyDotOffset: u32,
  rowStatsOffset: u32,
  dwDotOffset: u32,
  dbDotOffset: u32,
}

@group(0) @binding(0) var<uniform> pp: ParamParams;
@group(0) @binding(1) var<storage, read> p_x: array<f32>;
@group(0) @binding(2) var<storage, read> p_stats: array<f32>;
@group(0) @binding(3) var<storage, read> p_dy: array<f32>;
@group(0) @binding(4) var<storage, read> p_xDot: array<f32>;
@group(0) @binding(5) var<storage, read> p_dyDot: array<f32>;
@group(0) @binding(6) var<storage, read> p_rowStats: array<f32>;
@group(0) @binding(7) var<storage, read_write> p_gradsDot: array<f32>;

@compute @workgroup_size(WG)
fn backward_params_tangent(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let c = flat_index(gid, groups);
  if (c >= pp.d) {
    return;
  }
  var dwDot = 0.0;
  var dbDot = 0.0;
  for (var r = 0u; r < pp.rows; r++) {
    let i = r * pp.d + c;
    let rstd = p_stats[pp.statsOffset + pp.rows + r];
    let xhat = (p_x[pp.xOffset + i] - p_stats[pp.statsOffset + r]) * rstd;
    let xhatDot = rstd * (p_xDot[pp.xDotOffset + i] - p_rowStats[pp.rowStatsOffset + r] -
      xhat * p_rowStats[pp.rowStatsOffset + pp.rows + r]);
    let dyDot = p_dyDot[pp.dyDotOffset + i];
    dwDot += dyDot * xhat + p_dy[pp.dyOffset + i] * xhatDot;
    dbDot += dyDot;
  }
  p_gradsDot[pp.dwDotOffset + c] += dwDot;
  p_gradsDot[pp.dbDotOffset + c] += dbDot;
}
