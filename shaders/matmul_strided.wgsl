// matmul_strided: out = alpha · a·b (+ bias) (+ out) for any strides and offsets (the fallback
// when a layout does not allow vec4 loads). Register-blocked, no workgroup memory.
//
// Layouts (element units; z = batch index):
//   a [Z, M, K]: a[z,m,k] = a_buf[a_off + z·a_sb + m·a_sm + k·a_sk]
//   b [Z, K, N]: b[z,k,n] = b_buf[b_off + z·b_sb + k·b_sk + n·b_sn]
//   out [Z, M, N] contiguous rows: out[z,m,n] = out[out_off + z·out_sb + m·N + n]
//   bias [N] from bias_off. flags: bit 0 adds bias, bit 1 accumulates into out.
// Each invocation owns a TM × 4 block (accumulated as TM vec4 rows). Edge rows / columns are
// clamped on load and masked on store. Defines: TM (1..8), WGX, WGY. Grid: x over column blocks
// of 4, y over row blocks of TM, z over the batch.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  a_off: u32,
  a_sm: u32,
  a_sk: u32,
  a_sb: u32,
  b_off: u32,
  b_sk: u32,
  b_sn: u32,
  b_sb: u32,
  out_off: u32,
  out_sb: u32,
  bias_off: u32,
  flags: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a_buf: array<f32>;
@group(0) @binding(2) var<storage, read> b_buf: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let z = gid.z;
  let row0 = gid.y * TM;
  let col0 = gid.x * 4u;
  let a_base = p.a_off + z * p.a_sb;
  let b_base = p.b_off + z * p.b_sb;
  let last_n = p.N - 1u;
  // Column offsets into b, clamped so that every load stays in bounds.
  let cols = min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(last_n));
  let bc = cols * p.b_sn;
  var a_row: array<u32, TM>;
  for (var i = 0u; i < TM; i++) {
    a_row[i] = a_base + min(row0 + i, p.M - 1u) * p.a_sm;
  }
  var acc: array<vec4f, TM>;
  for (var k = 0u; k < p.K; k++) {
    let bk = b_base + k * p.b_sk;
    let b = vec4f(b_buf[bk + bc.x], b_buf[bk + bc.y], b_buf[bk + bc.z], b_buf[bk + bc.w]);
    let ak = k * p.a_sk;
    for (var i = 0u; i < TM; i++) {
      acc[i] = fma(vec4f(a_buf[a_row[i] + ak]), b, acc[i]);
    }
  }
  let out_base = p.out_off + z * p.out_sb;
  for (var i = 0u; i < TM; i++) {
    let row = row0 + i;
    if (row >= p.M) {
      break;
    }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + j;
      if (col < p.N) {
        var v = p.alpha * acc[i][j];
        if ((p.flags & 1u) != 0u) {
          v += bias[p.bias_off + col];
        }
        let o = out_base + row * p.N + col;
        if ((p.flags & 2u) != 0u) {
          v += out[o];
        }
        out[o] = v;
      }
    }
  }
}
