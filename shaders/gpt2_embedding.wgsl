// GPT-2 token + position embedding, forward and backward, over one block of wte's rows at a
// time (a large vocabulary is split into row blocks held in separate buffers, since one binding
// is limited in size; a small one is a single block).
// Layout: tokens [N] (N = B·T rows, row r = b·T + t) token ids stored as f32; the block holds
// wte rows [rowStart, rowEnd) as [rowEnd - rowStart, d] from wteOffset; wpe [P, d] from
// wpeOffset (possibly the same buffer as the block); x and dx are [N, d].
// `forward`  one invocation per element of x: x[r, c] = (first ? wpe[r mod T, c] : x[r, c])
//            + (tokens[r] in the block ? wte[tokens[r], c] : 0). Blocks run in order, the first
//            with first = 1.
// `backward_tokens` adds dx into the block's gradient without float atomics. The tokens are
//   grouped by id on the CPU (counting sort): groups = [ids (U) | starts (U + 1) | rows (N)]
//   from groupsOffset, all as f32, ids ascending. One invocation owns one (group u, column c)
//   pair for u in [u0, u1), the groups whose ids fall in the block:
//   dwte[ids[u] - rowStart, c] += Σ_{k in [starts[u], starts[u+1])} dx[rows[k], c].
// `backward_positions` one invocation per (t, c): dwpe[t, c] += Σ_b dx[b·T + t, c].
// Grid: 1-D, folded into x/y because a dimension holds at most 65535 workgroups.

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

struct ForwardParams {
  n: u32,
  T: u32,
  d: u32,
  tokensOffset: u32,
  wteOffset: u32,
  wpeOffset: u32,
  outOffset: u32,
  rowStart: u32,
  rowEnd: u32,
  first: u32,
}

@group(0) @binding(0) var<uniform> fp: ForwardParams;
@group(0) @binding(1) var<storage, read> tokens: array<f32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> x: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= fp.n) {
    return;
  }
  let r = i / fp.d;
  let c = i % fp.d;
  let id = u32(tokens[fp.tokensOffset + r]);
  var value: f32;
  if (fp.first != 0u) {
    value = wpe[fp.wpeOffset + (r % fp.T) * fp.d + c];
  } else {
    value = x[fp.outOffset + i];
  }
  if (id >= fp.rowStart && id < fp.rowEnd) {
    value = wte[fp.wteOffset + (id - fp.rowStart) * fp.d + c] + value;
  }
  x[fp.outOffset + i] = value;
}

struct TokensParams {
  U: u32,
  u0: u32,
  u1: u32,
  d: u32,
  groupsOffset: u32,
  dxOffset: u32,
  dwteOffset: u32,
  rowStart: u32,
}

@group(0) @binding(0) var<uniform> tp: TokensParams;
@group(0) @binding(1) var<storage, read> token_groups: array<f32>;
@group(0) @binding(2) var<storage, read> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;

@compute @workgroup_size(WG)
fn backward_tokens(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let i = flat_index(gid, groups);
  let d = tp.d;
  if (i >= (tp.u1 - tp.u0) * d) {
    return;
  }
  let u = tp.u0 + i / d;
  let c = i % d;
  let id = u32(token_groups[tp.groupsOffset + u]);
  let starts = tp.groupsOffset + tp.U;
  let rows = starts + tp.U + 1u;
  let begin = u32(token_groups[starts + u]);
  let end = u32(token_groups[starts + u + 1u]);
  var acc = 0.0;
  for (var k = begin; k < end; k++) {
    acc += dx[tp.dxOffset + u32(token_groups[rows + k]) * d + c];
  }
  dwte[tp.dwteOffset + (id - tp.rowStart) * d + c] += acc;
}

struct PositionsParams {
  B: u32,
  T: u32,
  d: u32,
  dxOffset: u32,
  dwpeOffset: u32,
}

@group(0) @binding(0) var<uniform> pp: PositionsParams;
@group(0) @binding(1) var<storage, read> position_dx: array<f32>;
@group(0) @binding(2) var<storage, read_write> dwpe: array<f32>;

@compute @workgroup_size(WG)
fn backward_positions(
  @builtin(global_invocation_id) gid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
) {
  let j = flat_index(gid, groups);
  let d = pp.d;
  if (j >= pp.T * d) {
    return;
  }
  let t = j / d;
  let c = j % d;
  var acc = 0.0;
  for (var b = 0u; b < pp.B; b++) {
    acc += position_dx[pp.dxOffset + (b * pp.T + t) * d + c];
  }
  dwpe[pp.dwpeOffset + t * d + c] += acc;
}
