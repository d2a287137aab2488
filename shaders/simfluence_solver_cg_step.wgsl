// simfluence_solver_cg_step: one preconditioned-CG update of the Simfluence ridge solve, per
// test example with its own step length α (0 once converged):
//   x += α·p,  r -= α·q,  s = M⁻¹·r  (2x2 block-Jacobi inverse).
// Partial sums per chunk of training indices: slot 0 = r·s, slot 1 = r·r. Groups of 4 converged
// test examples (α = 0, row ROW_ACTIVE = 0) skip the work: nothing would change.
// Layouts (m4 = padded test count / 4, test examples fastest, 4 per vec4):
//   scal: [SCAL_ROWS, m4] vec4, row ROW_ALPHA = α;  p, q, x, r, s: [2, n, m4] vec4;
//   minv: [3, n, m4] vec4 (aa, ab, bb);  partial: [3, chunks, m4] vec4.
// Grid: x over m4 in workgroups of WG, y over chunks of per_chunk training indices.

struct Params {
  n: u32,
  m4: u32,
  per_chunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scal: array<vec4f>;
@group(0) @binding(2) var<storage, read> p: array<vec4f>;
@group(0) @binding(3) var<storage, read> q: array<vec4f>;
@group(0) @binding(4) var<storage, read> minv: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> x: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> r: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> s: array<vec4f>;
@group(0) @binding(8) var<storage, read_write> partial: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let z4 = gid.x;
  let chunk = gid.y;
  if (z4 >= params.m4 || chunk >= params.chunks) {
    return;
  }
  let m4 = params.m4;
  let stride = params.n * m4;
  if (!any(scal[ROW_ACTIVE * m4 + z4] > vec4f(0.0))) {
    return;
  }
  let alpha = scal[ROW_ALPHA * m4 + z4];
  let first = chunk * params.per_chunk;
  let last = min(first + params.per_chunk, params.n);
  var rs = vec4f(0.0);
  var rr = vec4f(0.0);
  for (var i = first; i < last; i++) {
    let ka = i * m4 + z4;
    let kb = stride + ka;
    x[ka] += alpha * p[ka];
    x[kb] += alpha * p[kb];
    let ra = r[ka] - alpha * q[ka];
    let rb = r[kb] - alpha * q[kb];
    r[ka] = ra;
    r[kb] = rb;
    let sa = minv[ka] * ra + minv[stride + ka] * rb;
    let sb = minv[stride + ka] * ra + minv[2u * stride + ka] * rb;
    s[ka] = sa;
    s[kb] = sb;
    rs += ra * sa + rb * sb;
    rr += ra * ra + rb * rb;
  }
  let cm = params.chunks * m4;
  partial[chunk * m4 + z4] = rs;
  partial[cm + chunk * m4 + z4] = rr;
}
