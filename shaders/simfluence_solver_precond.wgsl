// simfluence_solver_precond: inverse of each training index's 2x2 diagonal block of XᵀX + λI
// (block-Jacobi preconditioner of the Simfluence ridge CG). For index i and test example z:
//   aa = Σ c²·L² + λ,  ab = Σ c²·L,  bb = Σ c² + λ   (sums over the rows containing i)
// and minv = (inv_aa, inv_ab, inv_bb). A block the kind does not fit is dropped (zeros), which
// also keeps CG from ever moving it.
// Layouts (m4 = padded test count / 4, test examples fastest, 4 per vec4):
//   csc: u32, colPtr[n + 1] then (row, count) pairs from element entry_base.
//   lprev: [rows, m4] vec4;  scal: [SCAL_ROWS, m4] vec4, row 0 = λ;  minv: [3, n, m4] vec4.
// Grid: x over m4 in workgroups of WG, y over training indices (strided loop).

struct Params {
  n: u32,
  m4: u32,
  entry_base: u32,
  use_a: u32,
  use_b: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> csc: array<u32>;
@group(0) @binding(2) var<storage, read> lprev: array<vec4f>;
@group(0) @binding(3) var<storage, read> scal: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> minv: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let z4 = gid.x;
  if (z4 >= params.m4) {
    return;
  }
  let m4 = params.m4;
  let lambda = scal[z4];
  let stride = params.n * m4;
  for (var i = gid.y; i < params.n; i += groups.y) {
    var aa = lambda;
    var ab = vec4f(0.0);
    var bb = lambda;
    let end = csc[i + 1u];
    for (var e = csc[i]; e < end; e++) {
      let at = params.entry_base + 2u * e;
      let c = f32(csc[at + 1u]);
      let l = lprev[csc[at] * m4 + z4];
      aa += c * c * l * l;
      ab += c * c * l;
      bb += c * c;
    }
    var inv_aa = vec4f(0.0);
    var inv_ab = vec4f(0.0);
    var inv_bb = vec4f(0.0);
    if (params.use_a != 0u && params.use_b != 0u) {
      let det = aa * bb - ab * ab;
      let ok = det > vec4f(0.0);
      let safe = select(vec4f(1.0), det, ok);
      inv_aa = select(vec4f(0.0), bb / safe, ok);
      inv_ab = select(vec4f(0.0), -ab / safe, ok);
      inv_bb = select(vec4f(0.0), aa / safe, ok);
    } else if (params.use_a != 0u) {
      let ok = aa > vec4f(0.0);
      inv_aa = select(vec4f(0.0), 1.0 / select(vec4f(1.0), aa, ok), ok);
    } else {
      let ok = bb > vec4f(0.0);
      inv_bb = select(vec4f(0.0), 1.0 / select(vec4f(1.0), bb, ok), ok);
    }
    let k = i * m4 + z4;
    minv[k] = inv_aa;
    minv[stride + k] = inv_ab;
    minv[2u * stride + k] = inv_bb;
  }
}
