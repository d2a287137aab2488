// fill: out[offset + i] = value for i in [0, n).
// Layout: out is a flat f32 buffer; the tensor occupies n contiguous elements from `offset`.
// Grid: 1-D over n, folded into x/y because a dimension holds at most 65535 workgroups.

struct Params {
  n: u32,
  offset: u32,
  value: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i < params.n) {
    out[params.offset + i] = params.value;
  }
}
