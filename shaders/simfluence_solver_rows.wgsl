// simfluence_solver_rows: u = X·v for every design row and test example (Simfluence ridge,
// MATH.md §2).
// Row r is transition (run, step t) with batch c_t; for test example z
//   u[r, z] = L[r, z] · Σ_{(i,c) ∈ row r} c·v_A[i, z] + Σ_{(i,c) ∈ row r} c·v_B[i, z].
// Layouts (m4 = padded test count / 4; test examples are the fastest axis, 4 per vec4):
//   csr: u32, rowPtr[rows + 1] then (index, count) pairs from element entry_base.
//   lprev: [rows, m4] vec4 (L_{t-1});  v: [2, n, m4] vec4 (block 0 = A, 1 = B);  u: [rows, m4].
//   scal: [SCAL_ROWS, m4] vec4, row ROW_ACTIVE = 1 while a test example's CG runs; with
//   skip_inactive set, groups of 4 converged test examples skip the work (their u is unused).
// Grid: x over m4 in workgroups of WG, y over rows (strided loop, so any row count fits).

struct Params {
  rows: u32,
  n: u32,
  m4: u32,
  entry_base: u32,
  skip_inactive: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> csr: array<u32>;
@group(0) @binding(2) var<storage, read> lprev: array<vec4f>;
@group(0) @binding(3) var<storage, read> v: array<vec4f>;
@group(0) @binding(4) var<storage, read> scal: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> u: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let z4 = gid.x;
  if (z4 >= params.m4) {
    return;
  }
  if (params.skip_inactive != 0u && !any(scal[ROW_ACTIVE * params.m4 + z4] > vec4f(0.0))) {
    return;
  }
  let block_b = params.n * params.m4;
  for (var r = gid.y; r < params.rows; r += groups.y) {
    var sa = vec4f(0.0);
    var sb = vec4f(0.0);
    let end = csr[r + 1u];
    for (var e = csr[r]; e < end; e++) {
      let at = params.entry_base + 2u * e;
      let i = csr[at];
      let c = f32(csr[at + 1u]);
      let k = i * params.m4 + z4;
      sa += c * v[k];
      sb += c * v[block_b + k];
    }
    let k = r * params.m4 + z4;
    u[k] = lprev[k] * sa + sb;
  }
}
