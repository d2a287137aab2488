// simfluence_solver_cg_start: starts (or restarts) preconditioned CG of the Simfluence ridge
// solve from q = (XᵀX + λI)·x0:  r = b - q,  s = M⁻¹·r,  p = s, with M⁻¹ the 2x2 block-Jacobi
// inverse.
// Also used after the solve, with q = (XᵀX + λI)·x, to measure the true residual.
// Partial sums per chunk of training indices: slot 0 = r·s, slot 1 = r·r, slot 2 = b·b.
// Layouts (m4 = padded test count / 4, test examples fastest, 4 per vec4):
//   b, q, r, s, p: [2, n, m4] vec4 (block 0 = A, 1 = B);  minv: [3, n, m4] vec4 (aa, ab, bb);
//   partial: [3, chunks, m4] vec4.
// Grid: x over m4 in workgroups of WG, y over chunks of per_chunk training indices.

struct Params {
  n: u32,
  m4: u32,
  per_chunk: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read> q: array<vec4f>;
@group(0) @binding(3) var<storage, read> minv: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> r: array<vec4f>;
@group(0) @binding(5) var<storage, read_write> s: array<vec4f>;
@group(0) @binding(6) var<storage, read_write> p: array<vec4f>;
@group(0) @binding(7) var<storage, read_write> partial: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let z4 = gid.x;
  let chunk = gid.y;
  if (z4 >= params.m4 || chunk >= params.chunks) {
    return;
  }
  let m4 = params.m4;
  let stride = params.n * m4;
  let first = chunk * params.per_chunk;
  let last = min(first + params.per_chunk, params.n);
  var rs = vec4f(0.0);
  var rr = vec4f(0.0);
  var bb = vec4f(0.0);
  for (var i = first; i < last; i++) {
    let ka = i * m4 + z4;
    let kb = stride + ka;
    let ba = b[ka];
    let bbv = b[kb];
    let ra = ba - q[ka];
    let rb = bbv - q[kb];
    let sa = minv[ka] * ra + minv[stride + ka] * rb;
    let sb = minv[stride + ka] * ra + minv[2u * stride + ka] * rb;
    r[ka] = ra;
    r[kb] = rb;
    s[ka] = sa;
    s[kb] = sb;
    p[ka] = sa;
    p[kb] = sb;
    rs += ra * sa + rb * sb;
    rr += ra * ra + rb * rb;
    bb += ba * ba + bbv * bbv;
  }
  let cm = params.chunks * m4;
  partial[chunk * m4 + z4] = rs;
  partial[cm + chunk * m4 + z4] = rr;
  partial[2u * cm + chunk * m4 + z4] = bb;
}
