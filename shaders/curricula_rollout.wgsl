// curricula_rollout: many candidate curricula rolled out through one simulator in one dispatch
// (src/curricula/batched_rollout.ts is the float64 CPU reference). For candidate c and objective
// test j:  L_t = (1 + scale_t·Σ_{i∈c_t} A[i, j])·L_{t−1} + scale_t·Σ_{i∈c_t} B[i, j],
// where c_t are the entries of base batch order[c, t] whose pool index the candidate's mask keeps,
// scale_t = fitted / p_t when `scaled` (p_t: entries kept at step t; 1 when p_t = 0), else 1.
// Value_j = L_T ("final", or T = 0) or mean_{t=1..T} L_t ("mean"); J[c] = Σ_j w_j·value_j.
// Layouts (all row-major, f32 unless noted):
//   theta: [2, n, s] (block 0 = A, block 1 = B, objective tests fastest);
//   batches: u32, ptr[nb + 1] at 0 then pool indices (repeats allowed) from `entry_base`, base
//     batch b's entries = batches[entry_base + ptr[b] .. entry_base + ptr[b + 1]);
//   start: [2, s] (row 0 = L_0, row 1 = the tests' weights);
//   cand: u32, masks [C, words] (bit i % 32 of word i / 32 = pool index i kept) at 0, then
//     orders [C, T] (base batch at each step) at `order_base`;
//   out: [C] J per candidate.
// Grid: a workgroup of 64 lanes holds 64 / SL candidates, SL = a power of two ≥ min(s, 64) lanes
// each (lane l rolls tests l, l + SL, …); the lanes' weighted values are summed by a tree
// reduction in workgroup memory. Workgroups span x then y (index = y·num_workgroups.x + x).

struct Params {
  n: u32,
  s: u32,
  T: u32,
  C: u32,
  words: u32,
  order_base: u32,
  entry_base: u32,
  scaled: u32,
  at_mean: u32,
  fitted: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> batches: array<u32>;
@group(0) @binding(3) var<storage, read> start: array<f32>;
@group(0) @binding(4) var<storage, read> cand: array<u32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

fn kept(c: u32, i: u32) -> bool {
  return ((cand[c * params.words + (i >> 5u)] >> (i & 31u)) & 1u) == 1u;
}

/** Test j's value (final or mean loss) under candidate c. */
fn roll(c: u32, j: u32) -> f32 {
  let s = params.s;
  let block_b = params.n * s;
  var l = start[j];
  var total = 0.0;
  for (var t = 0u; t < params.T; t++) {
    let batch = cand[params.order_base + c * params.T + t];
    var a = 0.0;
    var b = 0.0;
    var present = 0u;
    let end = batches[batch + 1u];
    for (var e = batches[batch]; e < end; e++) {
      let i = batches[params.entry_base + e];
      if (!kept(c, i)) {
        continue;
      }
      present++;
      a += theta[i * s + j];
      b += theta[block_b + i * s + j];
    }
    var scale = 1.0;
    if (params.scaled == 1u && present > 0u) {
      scale = params.fitted / f32(present);
    }
    l = (1.0 + scale * a) * l + scale * b;
    total += l;
  }
  if (params.at_mean == 1u && params.T > 0u) {
    return total / f32(params.T);
  }
  return l;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let per_group = WG / SL;
  let slot = lid / SL;
  let lane = lid % SL;
  let c = (wid.y * groups.x + wid.x) * per_group + slot;
  var sum = 0.0;
  if (c < params.C) {
    for (var j = lane; j < params.s; j += SL) {
      sum += start[params.s + j] * roll(c, j);
    }
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = SL / 2u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (lane == 0u && c < params.C) {
    out[c] = partial[lid];
  }
}
