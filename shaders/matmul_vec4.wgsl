// matmul_vec4: out = alpha · a·b (+ bias) (+ out), register-blocked with vec4 loads and no
// workgroup memory (the fast path where barriers are expensive, e.g. llvmpipe's CPU SIMD lanes).
//
// Layouts (element units; z = batch index; offsets and non-unit strides are multiples of 4):
//   a [Z, M, K]: A_T false → a[z,m,k] = a_buf[a_off + z·a_sb + m·a_sm + k]   (vec4 along k)
//                A_T true  → a[z,m,k] = a_buf[a_off + z·a_sb + k·a_sk + m]   (vec4 along m, M % 4 == 0)
//   b [Z, K, N]: B_T false → b[z,k,n] = b_buf[b_off + z·b_sb + k·b_sk + n]   (vec4 along n)
//                B_T true  → b[z,k,n] = b_buf[b_off + z·b_sb + n·b_sn + k]   (vec4 along k)
//   out [Z, M, N] contiguous from out_off + z·out_sb (out_off % 4 == 0); bias [N] from bias_off.
//   Requires K % 4 == 0 and N % 4 == 0. flags: bit 0 adds bias, bit 1 accumulates into out.
// Each invocation owns a (4·RM) × (4·RN) block held as RM·RN mat4x4 accumulators: with a block
// of four k steps, Cᵀ += Bᵀ·Aᵀ is one mat4x4 product per accumulator (transposes are free in the
// SoA code llvmpipe generates). The 8 × 8 grid of blocks is spelled out (it was generated once;
// edit every block alike) because NIR does not unroll loops over large private arrays, which
// then live in slow per-lane scratch memory; blocks beyond RM / RN are compile-time dead.
// Edge rows / columns are clamped on load (always in bounds, no branches in the k loop) and
// masked on store.
// Defines: RM (1..8), RN (1..8), WGX, WGY, A_T, B_T. Grid: x over column blocks, y over row
// blocks, z over the batch.

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
@group(0) @binding(1) var<storage, read> a_buf: array<vec4f>;
@group(0) @binding(2) var<storage, read> b_buf: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

var<private> a_base: u32;
var<private> b_base: u32;
var<private> row0: u32;
var<private> col0: u32; // first output column of this invocation

// Aᵀ block for rows row0 + 4i .. + 3 and k .. k + 3 (k a multiple of 4).
fn load_a(i: u32, k: u32) -> mat4x4f {
  let p = params;
  if (A_T) {
    let m4 = min(row0 / 4u + i, p.M / 4u - 1u);
    let base = a_base + m4;
    let s = p.a_sk / 4u;
    return transpose(mat4x4f(
      a_buf[base + k * s],
      a_buf[base + (k + 1u) * s],
      a_buf[base + (k + 2u) * s],
      a_buf[base + (k + 3u) * s],
    ));
  }
  let r = row0 + 4u * i;
  let last = p.M - 1u;
  let s = p.a_sm / 4u;
  let kk = a_base + k / 4u;
  return mat4x4f(
    a_buf[kk + min(r, last) * s],
    a_buf[kk + min(r + 1u, last) * s],
    a_buf[kk + min(r + 2u, last) * s],
    a_buf[kk + min(r + 3u, last) * s],
  );
}

// Bᵀ block for k .. k + 3 and columns col0 + 4j .. + 3.
fn load_b(j: u32, k: u32) -> mat4x4f {
  let p = params;
  if (B_T) {
    let c = col0 + 4u * j;
    let last = p.N - 1u;
    let s = p.b_sn / 4u;
    let kk = b_base + k / 4u;
    return transpose(mat4x4f(
      b_buf[kk + min(c, last) * s],
      b_buf[kk + min(c + 1u, last) * s],
      b_buf[kk + min(c + 2u, last) * s],
      b_buf[kk + min(c + 3u, last) * s],
    ));
  }
  let c4 = min(col0 / 4u + j, p.N / 4u - 1u);
  let base = b_base + c4;
  let s = p.b_sk / 4u;
  return mat4x4f(
    b_buf[base + k * s],
    b_buf[base + (k + 1u) * s],
    b_buf[base + (k + 2u) * s],
    b_buf[base + (k + 3u) * s],
  );
}

// Writes the 4 × 4 output block whose transpose is `ct` at rows row0 + 4i, columns col0 + 4j.
fn store(ct: mat4x4f, i: u32, j: u32, z: u32) {
  let p = params;
  let c = col0 + 4u * j;
  if (c >= p.N) {
    return;
  }
  let n4 = p.N / 4u;
  var add = vec4f(0.0);
  if ((p.flags & 1u) != 0u) {
    let o = p.bias_off + c;
    add = vec4f(bias[o], bias[o + 1u], bias[o + 2u], bias[o + 3u]);
  }
  let base = (p.out_off + z * p.out_sb) / 4u + c / 4u;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + 4u * i + r;
    if (row < p.M) {
      let o = base + row * n4;
      var v = p.alpha * ct[r] + add;
      if ((p.flags & 2u) != 0u) {
        v += out[o];
      }
      out[o] = v;
    }
  }
}

@compute @workgroup_size(WGX, WGY)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let p = params;
  let z = gid.z;
  row0 = gid.y * (4u * RM);
  col0 = gid.x * (4u * RN);
  a_base = (p.a_off + z * p.a_sb) / 4u;
  b_base = (p.b_off + z * p.b_sb) / 4u;

  var c0_0 = mat4x4f();
  var c0_1 = mat4x4f();
  var c0_2 = mat4x4f();
  var c0_3 = mat4x4f();
  var c0_4 = mat4x4f();
  var c0_5 = mat4x4f();
  var c0_6 = mat4x4f();
  var c0_7 = mat4x4f();
  var c1_0 = mat4x4f();
  var c1_1 = mat4x4f();
  var c1_2 = mat4x4f();
  var c1_3 = mat4x4f();
  var c1_4 = mat4x4f();
  var c1_5 = mat4x4f();
  var c1_6 = mat4x4f();
  var c1_7 = mat4x4f();
  var c2_0 = mat4x4f();
  var c2_1 = mat4x4f();
  var c2_2 = mat4x4f();
  var c2_3 = mat4x4f();
  var c2_4 = mat4x4f();
  var c2_5 = mat4x4f();
  var c2_6 = mat4x4f();
  var c2_7 = mat4x4f();
  var c3_0 = mat4x4f();
  var c3_1 = mat4x4f();
  var c3_2 = mat4x4f();
  var c3_3 = mat4x4f();
  var c3_4 = mat4x4f();
  var c3_5 = mat4x4f();
  var c3_6 = mat4x4f();
  var c3_7 = mat4x4f();
  var c4_0 = mat4x4f();
  var c4_1 = mat4x4f();
  var c4_2 = mat4x4f();
  var c4_3 = mat4x4f();
  var c4_4 = mat4x4f();
  var c4_5 = mat4x4f();
  var c4_6 = mat4x4f();
  var c4_7 = mat4x4f();
  var c5_0 = mat4x4f();
  var c5_1 = mat4x4f();
  var c5_2 = mat4x4f();
  var c5_3 = mat4x4f();
  var c5_4 = mat4x4f();
  var c5_5 = mat4x4f();
  var c5_6 = mat4x4f();
  var c5_7 = mat4x4f();
  var c6_0 = mat4x4f();
  var c6_1 = mat4x4f();
  var c6_2 = mat4x4f();
  var c6_3 = mat4x4f();
  var c6_4 = mat4x4f();
  var c6_5 = mat4x4f();
  var c6_6 = mat4x4f();
  var c6_7 = mat4x4f();
  var c7_0 = mat4x4f();
  var c7_1 = mat4x4f();
  var c7_2 = mat4x4f();
  var c7_3 = mat4x4f();
  var c7_4 = mat4x4f();
  var c7_5 = mat4x4f();
  var c7_6 = mat4x4f();
  var c7_7 = mat4x4f();
  for (var k = 0u; k < p.K; k += 4u) {
    let a0 = load_a(0u, k);
    var a1 = mat4x4f();
    if (RM > 1u) { a1 = load_a(1u, k); }
    var a2 = mat4x4f();
    if (RM > 2u) { a2 = load_a(2u, k); }
    var a3 = mat4x4f();
    if (RM > 3u) { a3 = load_a(3u, k); }
    var a4 = mat4x4f();
    if (RM > 4u) { a4 = load_a(4u, k); }
    var a5 = mat4x4f();
    if (RM > 5u) { a5 = load_a(5u, k); }
    var a6 = mat4x4f();
    if (RM > 6u) { a6 = load_a(6u, k); }
    var a7 = mat4x4f();
    if (RM > 7u) { a7 = load_a(7u, k); }
    let b0 = load_b(0u, k);
    var b1 = mat4x4f();
    if (RN > 1u) { b1 = load_b(1u, k); }
    var b2 = mat4x4f();
    if (RN > 2u) { b2 = load_b(2u, k); }
    var b3 = mat4x4f();
    if (RN > 3u) { b3 = load_b(3u, k); }
    var b4 = mat4x4f();
    if (RN > 4u) { b4 = load_b(4u, k); }
    var b5 = mat4x4f();
    if (RN > 5u) { b5 = load_b(5u, k); }
    var b6 = mat4x4f();
    if (RN > 6u) { b6 = load_b(6u, k); }
    var b7 = mat4x4f();
    if (RN > 7u) { b7 = load_b(7u, k); }
    c0_0 += b0 * a0;
    if (RM > 1u) { c1_0 += b0 * a1; }
    if (RM > 2u) { c2_0 += b0 * a2; }
    if (RM > 3u) { c3_0 += b0 * a3; }
    if (RM > 4u) { c4_0 += b0 * a4; }
    if (RM > 5u) { c5_0 += b0 * a5; }
    if (RM > 6u) { c6_0 += b0 * a6; }
    if (RM > 7u) { c7_0 += b0 * a7; }
    if (RN > 1u) { c0_1 += b1 * a0; }
    if (RM > 1u && RN > 1u) { c1_1 += b1 * a1; }
    if (RM > 2u && RN > 1u) { c2_1 += b1 * a2; }
    if (RM > 3u && RN > 1u) { c3_1 += b1 * a3; }
    if (RM > 4u && RN > 1u) { c4_1 += b1 * a4; }
    if (RM > 5u && RN > 1u) { c5_1 += b1 * a5; }
    if (RM > 6u && RN > 1u) { c6_1 += b1 * a6; }
    if (RM > 7u && RN > 1u) { c7_1 += b1 * a7; }
    if (RN > 2u) { c0_2 += b2 * a0; }
    if (RM > 1u && RN > 2u) { c1_2 += b2 * a1; }
    if (RM > 2u && RN > 2u) { c2_2 += b2 * a2; }
    if (RM > 3u && RN > 2u) { c3_2 += b2 * a3; }
    if (RM > 4u && RN > 2u) { c4_2 += b2 * a4; }
    if (RM > 5u && RN > 2u) { c5_2 += b2 * a5; }
    if (RM > 6u && RN > 2u) { c6_2 += b2 * a6; }
    if (RM > 7u && RN > 2u) { c7_2 += b2 * a7; }
    if (RN > 3u) { c0_3 += b3 * a0; }
    if (RM > 1u && RN > 3u) { c1_3 += b3 * a1; }
    if (RM > 2u && RN > 3u) { c2_3 += b3 * a2; }
    if (RM > 3u && RN > 3u) { c3_3 += b3 * a3; }
    if (RM > 4u && RN > 3u) { c4_3 += b3 * a4; }
    if (RM > 5u && RN > 3u) { c5_3 += b3 * a5; }
    if (RM > 6u && RN > 3u) { c6_3 += b3 * a6; }
    if (RM > 7u && RN > 3u) { c7_3 += b3 * a7; }
    if (RN > 4u) { c0_4 += b4 * a0; }
    if (RM > 1u && RN > 4u) { c1_4 += b4 * a1; }
    if (RM > 2u && RN > 4u) { c2_4 += b4 * a2; }
    if (RM > 3u && RN > 4u) { c3_4 += b4 * a3; }
    if (RM > 4u && RN > 4u) { c4_4 += b4 * a4; }
    if (RM > 5u && RN > 4u) { c5_4 += b4 * a5; }
    if (RM > 6u && RN > 4u) { c6_4 += b4 * a6; }
    if (RM > 7u && RN > 4u) { c7_4 += b4 * a7; }
    if (RN > 5u) { c0_5 += b5 * a0; }
    if (RM > 1u && RN > 5u) { c1_5 += b5 * a1; }
    if (RM > 2u && RN > 5u) { c2_5 += b5 * a2; }
    if (RM > 3u && RN > 5u) { c3_5 += b5 * a3; }
    if (RM > 4u && RN > 5u) { c4_5 += b5 * a4; }
    if (RM > 5u && RN > 5u) { c5_5 += b5 * a5; }
    if (RM > 6u && RN > 5u) { c6_5 += b5 * a6; }
    if (RM > 7u && RN > 5u) { c7_5 += b5 * a7; }
    if (RN > 6u) { c0_6 += b6 * a0; }
    if (RM > 1u && RN > 6u) { c1_6 += b6 * a1; }
    if (RM > 2u && RN > 6u) { c2_6 += b6 * a2; }
    if (RM > 3u && RN > 6u) { c3_6 += b6 * a3; }
    if (RM > 4u && RN > 6u) { c4_6 += b6 * a4; }
    if (RM > 5u && RN > 6u) { c5_6 += b6 * a5; }
    if (RM > 6u && RN > 6u) { c6_6 += b6 * a6; }
    if (RM > 7u && RN > 6u) { c7_6 += b6 * a7; }
    if (RN > 7u) { c0_7 += b7 * a0; }
    if (RM > 1u && RN > 7u) { c1_7 += b7 * a1; }
    if (RM > 2u && RN > 7u) { c2_7 += b7 * a2; }
    if (RM > 3u && RN > 7u) { c3_7 += b7 * a3; }
    if (RM > 4u && RN > 7u) { c4_7 += b7 * a4; }
    if (RM > 5u && RN > 7u) { c5_7 += b7 * a5; }
    if (RM > 6u && RN > 7u) { c6_7 += b7 * a6; }
    if (RM > 7u && RN > 7u) { c7_7 += b7 * a7; }
  }
  store(c0_0, 0u, 0u, z);
  if (RN > 1u) { store(c0_1, 0u, 1u, z); }
  if (RN > 2u) { store(c0_2, 0u, 2u, z); }
  if (RN > 3u) { store(c0_3, 0u, 3u, z); }
  if (RN > 4u) { store(c0_4, 0u, 4u, z); }
  if (RN > 5u) { store(c0_5, 0u, 5u, z); }
  if (RN > 6u) { store(c0_6, 0u, 6u, z); }
  if (RN > 7u) { store(c0_7, 0u, 7u, z); }
  if (RM > 1u) { store(c1_0, 1u, 0u, z); }
  if (RM > 1u && RN > 1u) { store(c1_1, 1u, 1u, z); }
  if (RM > 1u && RN > 2u) { store(c1_2, 1u, 2u, z); }
  if (RM > 1u && RN > 3u) { store(c1_3, 1u, 3u, z); }
  if (RM > 1u && RN > 4u) { store(c1_4, 1u, 4u, z); }
  if (RM > 1u && RN > 5u) { store(c1_5, 1u, 5u, z); }
  if (RM > 1u && RN > 6u) { store(c1_6, 1u, 6u, z); }
  if (RM > 1u && RN > 7u) { store(c1_7, 1u, 7u, z); }
  if (RM > 2u) { store(c2_0, 2u, 0u, z); }
  if (RM > 2u && RN > 1u) { store(c2_1, 2u, 1u, z); }
  if (RM > 2u && RN > 2u) { store(c2_2, 2u, 2u, z); }
  if (RM > 2u && RN > 3u) { store(c2_3, 2u, 3u, z); }
  if (RM > 2u && RN > 4u) { store(c2_4, 2u, 4u, z); }
  if (RM > 2u && RN > 5u) { store(c2_5, 2u, 5u, z); }
  if (RM > 2u && RN > 6u) { store(c2_6, 2u, 6u, z); }
  if (RM > 2u && RN > 7u) { store(c2_7, 2u, 7u, z); }
  if (RM > 3u) { store(c3_0, 3u, 0u, z); }
  if (RM > 3u && RN > 1u) { store(c3_1, 3u, 1u, z); }
  if (RM > 3u && RN > 2u) { store(c3_2, 3u, 2u, z); }
  if (RM > 3u && RN > 3u) { store(c3_3, 3u, 3u, z); }
  if (RM > 3u && RN > 4u) { store(c3_4, 3u, 4u, z); }
  if (RM > 3u && RN > 5u) { store(c3_5, 3u, 5u, z); }
  if (RM > 3u && RN > 6u) { store(c3_6, 3u, 6u, z); }
  if (RM > 3u && RN > 7u) { store(c3_7, 3u, 7u, z); }
  if (RM > 4u) { store(c4_0, 4u, 0u, z); }
  if (RM > 4u && RN > 1u) { store(c4_1, 4u, 1u, z); }
  if (RM > 4u && RN > 2u) { store(c4_2, 4u, 2u, z); }
  if (RM > 4u && RN > 3u) { store(c4_3, 4u, 3u, z); }
  if (RM > 4u && RN > 4u) { store(c4_4, 4u, 4u, z); }
  if (RM > 4u && RN > 5u) { store(c4_5, 4u, 5u, z); }
  if (RM > 4u && RN > 6u) { store(c4_6, 4u, 6u, z); }
  if (RM > 4u && RN > 7u) { store(c4_7, 4u, 7u, z); }
  if (RM > 5u) { store(c5_0, 5u, 0u, z); }
  if (RM > 5u && RN > 1u) { store(c5_1, 5u, 1u, z); }
  if (RM > 5u && RN > 2u) { store(c5_2, 5u, 2u, z); }
  if (RM > 5u && RN > 3u) { store(c5_3, 5u, 3u, z); }
  if (RM > 5u && RN > 4u) { store(c5_4, 5u, 4u, z); }
  if (RM > 5u && RN > 5u) { store(c5_5, 5u, 5u, z); }
  if (RM > 5u && RN > 6u) { store(c5_6, 5u, 6u, z); }
  if (RM > 5u && RN > 7u) { store(c5_7, 5u, 7u, z); }
  if (RM > 6u) { store(c6_0, 6u, 0u, z); }
  if (RM > 6u && RN > 1u) { store(c6_1, 6u, 1u, z); }
  if (RM > 6u && RN > 2u) { store(c6_2, 6u, 2u, z); }
  if (RM > 6u && RN > 3u) { store(c6_3, 6u, 3u, z); }
  if (RM > 6u && RN > 4u) { store(c6_4, 6u, 4u, z); }
  if (RM > 6u && RN > 5u) { store(c6_5, 6u, 5u, z); }
  if (RM > 6u && RN > 6u) { store(c6_6, 6u, 6u, z); }
  if (RM > 6u && RN > 7u) { store(c6_7, 6u, 7u, z); }
  if (RM > 7u) { store(c7_0, 7u, 0u, z); }
  if (RM > 7u && RN > 1u) { store(c7_1, 7u, 1u, z); }
  if (RM > 7u && RN > 2u) { store(c7_2, 7u, 2u, z); }
  if (RM > 7u && RN > 3u) { store(c7_3, 7u, 3u, z); }
  if (RM > 7u && RN > 4u) { store(c7_4, 7u, 4u, z); }
  if (RM > 7u && RN > 5u) { store(c7_5, 7u, 5u, z); }
  if (RM > 7u && RN > 6u) { store(c7_6, 7u, 6u, z); }
  if (RM > 7u && RN > 7u) { store(c7_7, 7u, 7u, z); }
}
