// Token cross-entropy fused with the softmax, forward and backward.
// Layout: logits [rows, stride] row-major from logitsOffset, of which the first V columns are the
// vocabulary (the rest is padding: ignored, and 0 in dlogits); targets [rows] (ids as f32) from
// targetsOffset; weights [rows] from weightsOffset; loss [rows] from lossOffset; dlogits
// [rows, stride] from dlogitsOffset.
// `forward`           loss_r = logsumexp(logits_r) - logits_r[target_r] for every row (masking
//                     is the caller's business: it weights the rows it counts).
// `forward_backward`  also dlogits_r = weight_r·(softmax(logits_r) - onehot(target_r)).
// One invocation per row (no barriers: cheap on llvmpipe; rows are many). The max and the sum
// of exponentials are accumulated online in one sweep.
// A vocabulary too large for one binding comes as column chunks, each its own logits tensor
// [rows, stride] holding columns [colStart, colStart + stride) of which the first `cols` are
// real (cols = 0 for a chunk of padding only); stats [rows, 3] = (running max, running Σ exp,
// target logit) carries the sweep from chunk to chunk, in column order, so the result is the
// single sweep's:
// `chunk_stats`    first = 1 starts the sweep; updates stats with the chunk's columns.
// `chunk_loss`     loss_r = max + log(Σ exp) - target logit, after the last chunk.
// `chunk_backward` dlogits_r of one chunk = weight_r·(softmax - onehot), 0 in padding columns.
// Grid: 1-D over rows, folded into x/y.

struct Params {
  rows: u32,
  V: u32,
  stride: u32,
  logitsOffset: u32,
  targetsOffset: u32,
  weightsOffset: u32,
  lossOffset: u32,
  dlogitsOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> targets: array<f32>;

const LOWEST: f32 = -3.4028234663852886e38;

fn log_sum_exp(base: u32) -> f32 {
  var m = LOWEST;
  var s = 0.0;
  for (var c = 0u; c < params.V; c++) {
    let v = logits[base + c];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  return m + log(s);
}

fn row_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

@group(0) @binding(3) var<storage, read_write> loss_only: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let base = params.logitsOffset + r * params.stride;
  let label = u32(targets[params.targetsOffset + r]);
  loss_only[params.lossOffset + r] = log_sum_exp(base) - logits[base + label];
}

@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> dlogits: array<f32>;

@compute @workgroup_size(WG)
fn forward_backward(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = row_index(gid, groups);
  if (r >= params.rows) {
    return;
  }
  let base = params.logitsOffset + r * params.stride;
  let label = u32(targets[params.targetsOffset + r]);
  let lse = log_sum_exp(base);
  loss[params.lossOffset + r] = lse - logits[base + label];
  let w = weights[params.weightsOffset + r];
  let out = params.dlogitsOffset + r * params.stride;
  for (var c = 0u; c < params.V; c++) {
    let p = exp(logits[base + c] - lse);
    dlogits[out + c] = w * (p - select(0.0, 1.0, c == label));
  }
  for (var c = params.V; c < params.stride; c++) {
    dlogits[out + c] = 0.0;
  }
}

struct ChunkParams {
  rows: u32,
  cols: u32,
  stride: u32,
  logitsOffset: u32,
  targetsOffset: u32,
  colStart: u32,
  statsOffset: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> chunk: ChunkParams;
@group(0) @binding(1) var<storage, read> chunk_logits: array<f32>;
@group(0) @binding(2) var<storage, read> chunk_targets: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;

@compute @workgroup_size(WG)
fn chunk_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (r >= chunk.rows) {
    return;
  }
  let at = chunk.statsOffset + 3u * r;
  var m = LOWEST;
  var s = 0.0;
  var target_logit = 0.0;
  if (chunk.first == 0u) {
    m = stats[at];
    s = stats[at + 1u];
    target_logit = stats[at + 2u];
  }
  let base = chunk.logitsOffset + r * chunk.stride;
  for (var c = 0u; c < chunk.cols; c++) {
    let v = chunk_logits[base + c];
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  let label = u32(chunk_targets[chunk.targetsOffset + r]);
  if (label >= chunk.colStart && label < chunk.colStart + chunk.cols) {
    target_logit = chunk_logits[base + label - chunk.colStart];
  }
  stats[at] = m;
  stats[at + 1u] = s;
  stats[at + 2u] = target_logit;
}

struct LossParams {
  rows: u32,
  statsOffset: u32,
  lossOffset: u32,
}

@group(0) @binding(0) var<uniform> lp: LossParams;
@group(0) @binding(1) var<storage, read> final_stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> chunk_loss_out: array<f32>;

@compute @workgroup_size(WG)
fn chunk_loss(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (r >= lp.rows) {
    return;
  }
  let at = lp.statsOffset + 3u * r;
  chunk_loss_out[lp.lossOffset + r] = (final_stats[at] + log(final_stats[at + 1u])) -
    final_stats[at + 2u];
}

struct BackwardParams {
  rows: u32,
  cols: u32,
  stride: u32,
  logitsOffset: u32,
  targetsOffset: u32,
  colStart: u32,
  statsOffset: u32,
  weightsOffset: u32,
  dlogitsOffset: u32,
}

@group(0) @binding(0) var<uniform> bp: BackwardParams;
@group(0) @binding(1) var<storage, read> bw_logits: array<f32>;
@group(0) @binding(2) var<storage, read> bw_targets: array<f32>;
@group(0) @binding(3) var<storage, read> bw_stats: array<f32>;
@group(0) @binding(4) var<storage, read> bw_weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> bw_dlogits: array<f32>;

@compute @workgroup_size(WG)
fn chunk_backward(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let r = row_index(gid, groups);
  if (r >= bp.rows) {
    return;
  }
  let at = bp.statsOffset + 3u * r;
  let lse = bw_stats[at] + log(bw_stats[at + 1u]);
  let label = u32(bw_targets[bp.targetsOffset + r]);
  let w = bw_weights[bp.weightsOffset + r];
  let base = bp.logitsOffset + r * bp.stride;
  let out = bp.dlogitsOffset + r * bp.stride;
  for (var c = 0u; c < bp.cols; c++) {
    let p = exp(bw_logits[base + c] - lse);
    bw_dlogits[out + c] = w * (p - select(0.0, 1.0, bp.colStart + c == label));
  }
  for (var c = bp.cols; c < bp.stride; c++) {
    bw_dlogits[out + c] = 0.0;
  }
}
