// GPT-2 token + position embedding, forward and backward.
// Layout: tokens [N] (N = B·T rows, row r = b·T + t) token ids stored as f32; wte [V, d] and
// wpe [P, d] live in one flat parameter buffer at wteOffset / wpeOffset; x and dx are [N, d].
// `forward`  one invocation per element of x: x[r, c] = wte[tokens[r], c] + wpe[r mod T, c].
// `backward` adds dx into the parameter gradients without float atomics. The tokens are grouped
//   by id on the CPU (counting sort), so one invocation owns one (distinct id u, column c) pair:
//   groups = [ids (U) | starts (U + 1) | rows (N)] from groupsOffset, all as f32, and
//   dwte[ids[u], c] += Σ_{k in [starts[u], starts[u+1])} dx[rows[k], c]
//   for the first U·d invocations; the next T·d do dwpe[t, c] += Σ_b dx[b·T + t, c].
// Grid: 1-D, folded into x/y because a dimension holds at most 65535 workgroups.

struct ForwardParams {
  n: u32,
  T: u32,
  d: u32,
  tokensOffset: u32,
  wteOffset: u32,
  wpeOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> fp: ForwardParams;
@group(0) @binding(1) var<storage, read> tokens: array<f32>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<storage, read_write> x: array<f32>;

fn flat_index(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * WG;
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  if (i >= fp.n) {
    return;
  }
  let r = i / fp.d;
  let c = i % fp.d;
  let id = u32(tokens[fp.tokensOffset + r]);
  let t = r % fp.T;
  x[fp.outOffset + i] = weights[fp.wteOffset + id * fp.d + c] + weights[fp.wpeOffset + t * fp.d + c];
}

struct BackwardParams {
  U: u32,
  B: u32,
  T: u32,
  d: u32,
  groupsOffset: u32,
  dxOffset: u32,
  wteOffset: u32,
  wpeOffset: u32,
}

@group(0) @binding(0) var<uniform> bp: BackwardParams;
@group(0) @binding(1) var<storage, read> token_groups: array<f32>;
@group(0) @binding(2) var<storage, read> dx: array<f32>;
@group(0) @binding(3) var<storage, read_write> grads: array<f32>;

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_index(gid, groups);
  let d = bp.d;
  if (i < bp.U * d) {
    let u = i / d;
    let c = i % d;
    let id = u32(token_groups[bp.groupsOffset + u]);
    let starts = bp.groupsOffset + bp.U;
    let rows = starts + bp.U + 1u;
    let begin = u32(token_groups[starts + u]);
    let end = u32(token_groups[starts + u + 1u]);
    var acc = 0.0;
    for (var k = begin; k < end; k++) {
      acc += dx[bp.dxOffset + u32(token_groups[rows + k]) * d + c];
    }
    grads[bp.wteOffset + id * d + c] += acc;
    return;
  }
  let j = i - bp.U * d;
  if (j >= bp.T * d) {
    return;
  }
  let t = j / d;
  let c = j % d;
  var acc = 0.0;
  for (var b = 0u; b < bp.B; b++) {
    acc += dx[bp.dxOffset + (b * bp.T + t) * d + c];
  }
  grads[bp.wpeOffset + t * d + c] += acc;
}
