// Label sampling (the true Fisher's labels): each sampled row's label is drawn from
// softmax(logits_row) by inverse-CDF sampling, given one uniform draw per row (from the CPU).
// Layout: logits [rows, stride] row-major from logitsOffset hold the vocabulary's columns
// [colStart, colStart + stride), of which the first `cols` are real (the rest is padding,
// ignored; cols = 0 for a chunk of padding only). A whole row is one chunk (colStart = 0); a
// vocabulary too large for one binding comes as several chunks, launched in column order.
// draws [rows] from drawsOffset: u in [0, 1) samples the row, u < 0 leaves it alone (no entry
// point touches it). state [rows, 5] from stateOffset = (max, Σ e, running Σ e, label, last
// column with e > 0), e_c = exp(logit_c - max). targets [rows] (ids as f32) from targetsOffset.
// Three sweeps over the chunks, each launched once per chunk (first = 1 on the first chunk):
// `row_max`  the max of the real logits;
// `row_sum`  Σ e over the real columns;
// `pick`     walks the columns in order adding e; the label is the first column with e > 0 at
//            which the running sum reaches u·Σ e, so label c has probability e_c / Σ e. row_sum
//            and pick add the same terms in the same order, so the running sum ends at Σ e
//            itself, which u·Σ e cannot exceed: a label is always found (the last column with
//            e > 0 stands in all the same, should rounding ever differ);
// `finish`   targets[r] = the label.
// One invocation per row (like the cross-entropy). Grid: 1-D over rows, folded into x/y.

struct SweepParams {
  rows: u32,
  cols: u32,
  stride: u32,
  logitsOffset: u32,
  drawsOffset: u32,
  stateOffset: u32,
  colStart: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> sp: SweepParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> draws: array<f32>;
@group(0) @binding(3) var<storage, read_write> state: array<f32>;

const LOWEST: f32 = -3.4028234663852886e38;
const STATE: u32 = 5u;

fn row_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

/** Whether row r exists and is sampled. */
fn sampled(r: u32) -> bool {
  return r < sp.rows && draws[sp.drawsOffset + r] >= 0.0;
}

@compute @workgroup_size(WG)
fn row_max(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (!sampled(r)) {
    return;
  }
  let at = sp.stateOffset + STATE * r;
  var m = LOWEST;
  if (sp.first == 0u) {
    m = state[at];
  }
  let base = sp.logitsOffset + r * sp.stride;
  for (var c = 0u; c < sp.cols; c++) {
    m = max(m, logits[base + c]);
  }
  state[at] = m;
}

@compute @workgroup_size(WG)
fn row_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (!sampled(r)) {
    return;
  }
  let at = sp.stateOffset + STATE * r;
  let m = state[at];
  var s = 0.0;
  if (sp.first == 0u) {
    s = state[at + 1u];
  }
  let base = sp.logitsOffset + r * sp.stride;
  for (var c = 0u; c < sp.cols; c++) {
    s += exp(logits[base + c] - m);
  }
  state[at + 1u] = s;
}

@compute @workgroup_size(WG)
fn pick(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (!sampled(r)) {
    return;
  }
  let at = sp.stateOffset + STATE * r;
  let m = state[at];
  let threshold = draws[sp.drawsOffset + r] * state[at + 1u];
  var running = 0.0;
  var label = -1.0;
  var last = -1.0;
  if (sp.first == 0u) {
    running = state[at + 2u];
    label = state[at + 3u];
    last = state[at + 4u];
  }
  if (label < 0.0) {
    let base = sp.logitsOffset + r * sp.stride;
    for (var c = 0u; c < sp.cols; c++) {
      let e = exp(logits[base + c] - m);
      running += e;
      if (e > 0.0) {
        last = f32(sp.colStart + c);
        if (running >= threshold) {
          label = last;
          break;
        }
      }
    }
  }
  state[at + 2u] = running;
  state[at + 3u] = label;
  state[at + 4u] = last;
}

struct FinishParams {
  rows: u32,
  drawsOffset: u32,
  stateOffset: u32,
  targetsOffset: u32,
}

@group(0) @binding(0) var<uniform> fp: FinishParams;
@group(0) @binding(1) var<storage, read> finish_draws: array<f32>;
@group(0) @binding(2) var<storage, read> finish_state: array<f32>;
@group(0) @binding(3) var<storage, read_write> targets: array<f32>;

@compute @workgroup_size(WG)
fn finish(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = row_index(gid, groups);
  if (r >= fp.rows || finish_draws[fp.drawsOffset + r] < 0.0) {
    return;
  }
  let at = fp.stateOffset + STATE * r;
  let label = finish_state[at + 3u];
  targets[fp.targetsOffset + r] = select(finish_state[at + 4u], label, label >= 0.0);
}
