// simfluence_solver_cg_direction: new CG search direction p = s + β·p, β per test example
// (0 once converged; converged groups of 4 test examples skip the work, p is no longer used).
// Layouts (m4 = padded test count / 4, test examples fastest, 4 per vec4):
//   scal: [SCAL_ROWS, m4] vec4, rows ROW_BETA = β and ROW_ACTIVE;  s, p: [2, n, m4] vec4, so
//   element k belongs to test group k % m4.
// Grid: 1-D over the 2·n·m4 vec4 elements, folded into x/y.

struct Params {
  count: u32,
  m4: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scal: array<vec4f>;
@group(0) @binding(2) var<storage, read> s: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> p: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let k = gid.x + gid.y * groups.x * WG;
  if (k >= params.count) {
    return;
  }
  let z4 = k % params.m4;
  if (!any(scal[ROW_ACTIVE * params.m4 + z4] > vec4f(0.0))) {
    return;
  }
  let beta = scal[ROW_BETA * params.m4 + z4];
  p[k] = s[k] + beta * p[k];
}
