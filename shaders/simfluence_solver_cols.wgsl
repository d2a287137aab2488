// simfluence_solver_cols: q = mask ⊙ (Xᵀ·u) + ridge·λ·p, and partial sums of p·q (Simfluence
// ridge CG).
// For training index i and test example z, over the rows containing i (CSC):
//   q_A[i, z] = use_a · Σ c·L[r, z]·u[r, z] + add_ridge·λ_z·p_A[i, z]
//   q_B[i, z] = use_b · Σ c·u[r, z]         + add_ridge·λ_z·p_B[i, z]
// With add_ridge = 0 and u = y this computes the right-hand side b = Xᵀy.
// Layouts (m4 = padded test count / 4, test examples fastest, 4 per vec4):
//   csc: u32, colPtr[n + 1] then (row, count) pairs from element entry_base.
//   lprev, u: [rows, m4] vec4;  p, q: [2, n, m4] vec4;  scal: [SCAL_ROWS, m4] vec4, row 0 = λ;
//   partial: [3, chunks, m4] vec4, this kernel writes slot 0 (Σ_i p·q over its chunk).
// With skip_inactive set, groups of 4 test examples whose CG converged (scal row ROW_ACTIVE = 0)
// skip the work: their q and partials are not used again.
// Grid: x over m4 in workgroups of WG, y over chunks of per_chunk training indices.

struct Params {
  n: u32,
  m4: u32,
  entry_base: u32,
  per_chunk: u32,
  chunks: u32,
  use_a: u32,
  use_b: u32,
  add_ridge: u32,
  skip_inactive: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> csc: array<u32>;
@group(0) @binding(2) var<storage, read> lprev: array<vec4f>;
@group(0) @binding(3) var<storage, read> u: array<vec4f>;
@group(0) @binding(4) var<storage, read> p: array<vec4f>;
@group(0) @binding(5) var<storage, read> scal: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> q: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> partial: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let z4 = gid.x;
  let chunk = gid.y;
  if (z4 >= params.m4 || chunk >= params.chunks) {
    return;
  }
  let m4 = params.m4;
  if (params.skip_inactive != 0u && !any(scal[ROW_ACTIVE * m4 + z4] > vec4f(0.0))) {
    return;
  }
  let block_b = params.n * m4;
  let ridge = select(vec4f(0.0), scal[z4], params.add_ridge != 0u);
  let mask_a = select(0.0, 1.0, params.use_a != 0u);
  let mask_b = select(0.0, 1.0, params.use_b != 0u);
  let first = chunk * params.per_chunk;
  let last = min(first + params.per_chunk, params.n);
  var pq = vec4f(0.0);
  for (var i = first; i < last; i++) {
    var acc_a = vec4f(0.0);
    var acc_b = vec4f(0.0);
    let end = csc[i + 1u];
    for (var e = csc[i]; e < end; e++) {
      let at = params.entry_base + 2u * e;
      let k = csc[at] * m4 + z4;
      let cu = f32(csc[at + 1u]) * u[k];
      acc_a += cu * lprev[k];
      acc_b += cu;
    }
    let ka = i * m4 + z4;
    let kb = block_b + ka;
    let pa = p[ka];
    let pb = p[kb];
    let qa = mask_a * acc_a + ridge * pa;
    let qb = mask_b * acc_b + ridge * pb;
    q[ka] = qa;
    q[kb] = qb;
    pq += pa * qa + pb * qb;
  }
  partial[chunk * m4 + z4] = pq;
}
