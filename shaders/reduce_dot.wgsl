// First pass of a dot product: out[outOffset + g] = sum over i ≡ g·WG + lid (mod G·WG) of
// x[xOffset + i]·y[yOffset + i], for each of the G launched workgroups g.
// Layout: x and y are [n] contiguous from their offsets; out is [G] contiguous from outOffset.
// With G = 1 this is the whole dot product; otherwise reduce_rows.wgsl sums the G partials, so
// the result is deterministic (no atomics) and each workgroup's loop is a grid stride.
// Grid: G workgroups along x (G <= 65535), WG (a power of two) invocations each.

struct Params {
  n: u32,
  xOffset: u32,
  yOffset: u32,
  outOffset: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> y: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) groups: vec3u,
) {
  let stride = groups.x * WG;
  var sum = 0.0;
  for (var i = wid.x * WG + lid; i < params.n; i += stride) {
    sum += x[params.xOffset + i] * y[params.yOffset + i];
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      partial[lid] += partial[lid + half];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    out[params.outOffset + wid.x] = partial[0];
  }
}
