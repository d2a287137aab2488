// GENERATED — edit shaders/gen/panel.ts, then run `deno task gen`
// matmul_panel: out = alpha · a·b (+ bias) (+ out) for CPU adapters (llvmpipe). A workgroup of W
// invocations owns an R-row panel of out; invocation i owns the 4-column blocks i, i + W, ... (RN
// of them) across all R rows. Per step of 4 k, the workgroup stages a's R × 4 tile in workgroup
// memory (R vec4 loads shared by all W invocations) and each invocation reads it back at
// compile-time-constant offsets while streaming its own columns of b. On llvmpipe every buffer
// load is a per-lane loop, so cost follows loads per FMA: here R + 4·RN vec4 loads (R of them
// from workgroup memory, which skips the bounds check) feed 4·R·RN vec4 FMAs, against
// 4·(RM + RN) storage loads for 16·RM·RN in matmul_vec4 (16 vs 10.7 FMAs per load at the tuned
// sizes); one barrier pair per 4 k.
//
// Layouts (element units; z = batch index; offsets and non-unit strides are multiples of 4):
//   a [Z, M, K]: A_T false → a[z,m,k] = a_buf[a_off + z·a_sb + m·a_sm + k]   (vec4 along k)
//                A_T true  → a[z,m,k] = a_buf[a_off + z·a_sb + k·a_sk + m]   (vec4 along m, M % 4 == 0)
//   b [Z, K, N]: B_T false → b[z,k,n] = b_buf[b_off + z·b_sb + k·b_sk + n]   (vec4 along n)
//                B_T true  → b[z,k,n] = b_buf[b_off + z·b_sb + n·b_sn + k]   (vec4 along k)
//   out [Z, M, N] contiguous from out_off + z·out_sb (out_off % 4 == 0); bias [N] from bias_off.
//   Requires K % 4 == 0 and N % 4 == 0. flags: bit 0 adds bias, bit 1 accumulates into out.
// Edge rows / columns are clamped on load and masked on store.
// Defines: R (4..32, multiple of 4), RN (1..8), W (R % W == 0 or W % R == 0), A_T, B_T.
// Grid: x over column panels of 4·RN·W, y over row panels of R, z over the batch.
// The accumulator grid is spelled out by a generator script (shaders/gen/panel.ts; edit every
// block alike) because NIR does not unroll loops over large private arrays.

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

// A_T false: a_tile[r] = a[row0 + r, k .. k + 3];
// A_T true: a_tile[kk·R/4 + q] = a[row0 + 4q .. + 3, k + kk].
var<workgroup> a_tile: array<vec4f, 32>; // R used (sized for the largest R)

const STAGE: u32 = (R + W - 1u) / W; // a-tile vec4s staged per invocation

// Bᵀ block for k .. k + 3 and columns c .. c + 3 (result rows are k offsets); b_base in vec4s.
fn load_b(b_base: u32, c: u32, k: u32) -> mat4x4f {
  let p = params;
  if (B_T) {
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
  let base = b_base + min(c / 4u, p.N / 4u - 1u);
  let s = p.b_sk / 4u;
  return mat4x4f(
    b_buf[base + k * s],
    b_buf[base + (k + 1u) * s],
    b_buf[base + (k + 2u) * s],
    b_buf[base + (k + 3u) * s],
  );
}

// bias[c .. c + 3] when flags ask for it (c clamped so that masked columns stay in bounds).
fn bias_at(c: u32) -> vec4f {
  let p = params;
  if ((p.flags & 1u) == 0u) {
    return vec4f(0.0);
  }
  let o = p.bias_off + min(c, p.N - 4u);
  return vec4f(bias[o], bias[o + 1u], bias[o + 2u], bias[o + 3u]);
}

// Writes rows row .. row + 3 (`v` holds them as columns) of the block at columns c .. c + 3 as
// alpha · v + add (+ out when accumulating).
fn store(v: mat4x4f, row: u32, c: u32, z: u32, add: vec4f) {
  let p = params;
  if (c >= p.N) {
    return;
  }
  let base = (p.out_off + z * p.out_sb) / 4u + c / 4u;
  let n4 = p.N / 4u;
  for (var r = 0u; r < 4u; r++) {
    if (row + r < p.M) {
      let o = base + (row + r) * n4;
      var x = p.alpha * v[r] + add;
      if ((p.flags & 2u) != 0u) {
        x += out[o];
      }
      out[o] = x;
    }
  }
}

@compute @workgroup_size(W)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let p = params;
  let z = wid.z;
  let row0 = wid.y * R;
  // This invocation's blocks start at columns col0 + 4·W·j.
  let col0 = 4u * (wid.x * (W * RN) + li);
  let a_base = (p.a_off + z * p.a_sb) / 4u;
  let b_base = (p.b_off + z * p.b_sb) / 4u;
  // This invocation's share of the a tile: vec4s li, li + W, ... below R.
  var a_src: array<u32, STAGE>; // vec4 index of each staged element at k = 0
  var a_step = 1u; // their advance per step of 4 k
  for (var s = 0u; s < STAGE; s++) {
    let e = min(li + s * W, R - 1u);
    if (A_T) {
      a_src[s] = a_base + (e / (R / 4u)) * (p.a_sk / 4u) + min(row0 / 4u + e % (R / 4u), p.M / 4u - 1u);
      a_step = p.a_sk;
    } else {
      a_src[s] = a_base + min(row0 + e, p.M - 1u) * (p.a_sm / 4u);
    }
  }
  var c0_0 = vec4f();
  var c0_1 = vec4f();
  var c0_2 = vec4f();
  var c0_3 = vec4f();
  var c0_4 = vec4f();
  var c0_5 = vec4f();
  var c0_6 = vec4f();
  var c0_7 = vec4f();
  var c1_0 = vec4f();
  var c1_1 = vec4f();
  var c1_2 = vec4f();
  var c1_3 = vec4f();
  var c1_4 = vec4f();
  var c1_5 = vec4f();
  var c1_6 = vec4f();
  var c1_7 = vec4f();
  var c2_0 = vec4f();
  var c2_1 = vec4f();
  var c2_2 = vec4f();
  var c2_3 = vec4f();
  var c2_4 = vec4f();
  var c2_5 = vec4f();
  var c2_6 = vec4f();
  var c2_7 = vec4f();
  var c3_0 = vec4f();
  var c3_1 = vec4f();
  var c3_2 = vec4f();
  var c3_3 = vec4f();
  var c3_4 = vec4f();
  var c3_5 = vec4f();
  var c3_6 = vec4f();
  var c3_7 = vec4f();
  var c4_0 = vec4f();
  var c4_1 = vec4f();
  var c4_2 = vec4f();
  var c4_3 = vec4f();
  var c4_4 = vec4f();
  var c4_5 = vec4f();
  var c4_6 = vec4f();
  var c4_7 = vec4f();
  var c5_0 = vec4f();
  var c5_1 = vec4f();
  var c5_2 = vec4f();
  var c5_3 = vec4f();
  var c5_4 = vec4f();
  var c5_5 = vec4f();
  var c5_6 = vec4f();
  var c5_7 = vec4f();
  var c6_0 = vec4f();
  var c6_1 = vec4f();
  var c6_2 = vec4f();
  var c6_3 = vec4f();
  var c6_4 = vec4f();
  var c6_5 = vec4f();
  var c6_6 = vec4f();
  var c6_7 = vec4f();
  var c7_0 = vec4f();
  var c7_1 = vec4f();
  var c7_2 = vec4f();
  var c7_3 = vec4f();
  var c7_4 = vec4f();
  var c7_5 = vec4f();
  var c7_6 = vec4f();
  var c7_7 = vec4f();
  var c8_0 = vec4f();
  var c8_1 = vec4f();
  var c8_2 = vec4f();
  var c8_3 = vec4f();
  var c8_4 = vec4f();
  var c8_5 = vec4f();
  var c8_6 = vec4f();
  var c8_7 = vec4f();
  var c9_0 = vec4f();
  var c9_1 = vec4f();
  var c9_2 = vec4f();
  var c9_3 = vec4f();
  var c9_4 = vec4f();
  var c9_5 = vec4f();
  var c9_6 = vec4f();
  var c9_7 = vec4f();
  var c10_0 = vec4f();
  var c10_1 = vec4f();
  var c10_2 = vec4f();
  var c10_3 = vec4f();
  var c10_4 = vec4f();
  var c10_5 = vec4f();
  var c10_6 = vec4f();
  var c10_7 = vec4f();
  var c11_0 = vec4f();
  var c11_1 = vec4f();
  var c11_2 = vec4f();
  var c11_3 = vec4f();
  var c11_4 = vec4f();
  var c11_5 = vec4f();
  var c11_6 = vec4f();
  var c11_7 = vec4f();
  var c12_0 = vec4f();
  var c12_1 = vec4f();
  var c12_2 = vec4f();
  var c12_3 = vec4f();
  var c12_4 = vec4f();
  var c12_5 = vec4f();
  var c12_6 = vec4f();
  var c12_7 = vec4f();
  var c13_0 = vec4f();
  var c13_1 = vec4f();
  var c13_2 = vec4f();
  var c13_3 = vec4f();
  var c13_4 = vec4f();
  var c13_5 = vec4f();
  var c13_6 = vec4f();
  var c13_7 = vec4f();
  var c14_0 = vec4f();
  var c14_1 = vec4f();
  var c14_2 = vec4f();
  var c14_3 = vec4f();
  var c14_4 = vec4f();
  var c14_5 = vec4f();
  var c14_6 = vec4f();
  var c14_7 = vec4f();
  var c15_0 = vec4f();
  var c15_1 = vec4f();
  var c15_2 = vec4f();
  var c15_3 = vec4f();
  var c15_4 = vec4f();
  var c15_5 = vec4f();
  var c15_6 = vec4f();
  var c15_7 = vec4f();
  var c16_0 = vec4f();
  var c16_1 = vec4f();
  var c16_2 = vec4f();
  var c16_3 = vec4f();
  var c16_4 = vec4f();
  var c16_5 = vec4f();
  var c16_6 = vec4f();
  var c16_7 = vec4f();
  var c17_0 = vec4f();
  var c17_1 = vec4f();
  var c17_2 = vec4f();
  var c17_3 = vec4f();
  var c17_4 = vec4f();
  var c17_5 = vec4f();
  var c17_6 = vec4f();
  var c17_7 = vec4f();
  var c18_0 = vec4f();
  var c18_1 = vec4f();
  var c18_2 = vec4f();
  var c18_3 = vec4f();
  var c18_4 = vec4f();
  var c18_5 = vec4f();
  var c18_6 = vec4f();
  var c18_7 = vec4f();
  var c19_0 = vec4f();
  var c19_1 = vec4f();
  var c19_2 = vec4f();
  var c19_3 = vec4f();
  var c19_4 = vec4f();
  var c19_5 = vec4f();
  var c19_6 = vec4f();
  var c19_7 = vec4f();
  var c20_0 = vec4f();
  var c20_1 = vec4f();
  var c20_2 = vec4f();
  var c20_3 = vec4f();
  var c20_4 = vec4f();
  var c20_5 = vec4f();
  var c20_6 = vec4f();
  var c20_7 = vec4f();
  var c21_0 = vec4f();
  var c21_1 = vec4f();
  var c21_2 = vec4f();
  var c21_3 = vec4f();
  var c21_4 = vec4f();
  var c21_5 = vec4f();
  var c21_6 = vec4f();
  var c21_7 = vec4f();
  var c22_0 = vec4f();
  var c22_1 = vec4f();
  var c22_2 = vec4f();
  var c22_3 = vec4f();
  var c22_4 = vec4f();
  var c22_5 = vec4f();
  var c22_6 = vec4f();
  var c22_7 = vec4f();
  var c23_0 = vec4f();
  var c23_1 = vec4f();
  var c23_2 = vec4f();
  var c23_3 = vec4f();
  var c23_4 = vec4f();
  var c23_5 = vec4f();
  var c23_6 = vec4f();
  var c23_7 = vec4f();
  var c24_0 = vec4f();
  var c24_1 = vec4f();
  var c24_2 = vec4f();
  var c24_3 = vec4f();
  var c24_4 = vec4f();
  var c24_5 = vec4f();
  var c24_6 = vec4f();
  var c24_7 = vec4f();
  var c25_0 = vec4f();
  var c25_1 = vec4f();
  var c25_2 = vec4f();
  var c25_3 = vec4f();
  var c25_4 = vec4f();
  var c25_5 = vec4f();
  var c25_6 = vec4f();
  var c25_7 = vec4f();
  var c26_0 = vec4f();
  var c26_1 = vec4f();
  var c26_2 = vec4f();
  var c26_3 = vec4f();
  var c26_4 = vec4f();
  var c26_5 = vec4f();
  var c26_6 = vec4f();
  var c26_7 = vec4f();
  var c27_0 = vec4f();
  var c27_1 = vec4f();
  var c27_2 = vec4f();
  var c27_3 = vec4f();
  var c27_4 = vec4f();
  var c27_5 = vec4f();
  var c27_6 = vec4f();
  var c27_7 = vec4f();
  var c28_0 = vec4f();
  var c28_1 = vec4f();
  var c28_2 = vec4f();
  var c28_3 = vec4f();
  var c28_4 = vec4f();
  var c28_5 = vec4f();
  var c28_6 = vec4f();
  var c28_7 = vec4f();
  var c29_0 = vec4f();
  var c29_1 = vec4f();
  var c29_2 = vec4f();
  var c29_3 = vec4f();
  var c29_4 = vec4f();
  var c29_5 = vec4f();
  var c29_6 = vec4f();
  var c29_7 = vec4f();
  var c30_0 = vec4f();
  var c30_1 = vec4f();
  var c30_2 = vec4f();
  var c30_3 = vec4f();
  var c30_4 = vec4f();
  var c30_5 = vec4f();
  var c30_6 = vec4f();
  var c30_7 = vec4f();
  var c31_0 = vec4f();
  var c31_1 = vec4f();
  var c31_2 = vec4f();
  var c31_3 = vec4f();
  var c31_4 = vec4f();
  var c31_5 = vec4f();
  var c31_6 = vec4f();
  var c31_7 = vec4f();
  for (var k = 0u; k < p.K; k += 4u) {
    workgroupBarrier(); // the previous step's reads are done
    for (var s = 0u; s < STAGE; s++) {
      if (li + s * W < R) {
        a_tile[li + s * W] = a_buf[a_src[s]];
      }
      a_src[s] += a_step;
    }
    workgroupBarrier();
    let b0 = load_b(b_base, col0, k);
    var b1 = mat4x4f();
    if (RN > 1u) { b1 = load_b(b_base, col0 + 4u * W, k); }
    var b2 = mat4x4f();
    if (RN > 2u) { b2 = load_b(b_base, col0 + 8u * W, k); }
    var b3 = mat4x4f();
    if (RN > 3u) { b3 = load_b(b_base, col0 + 12u * W, k); }
    var b4 = mat4x4f();
    if (RN > 4u) { b4 = load_b(b_base, col0 + 16u * W, k); }
    var b5 = mat4x4f();
    if (RN > 5u) { b5 = load_b(b_base, col0 + 20u * W, k); }
    var b6 = mat4x4f();
    if (RN > 6u) { b6 = load_b(b_base, col0 + 24u * W, k); }
    var b7 = mat4x4f();
    if (RN > 7u) { b7 = load_b(b_base, col0 + 28u * W, k); }
    if (A_T) {
      {
        let t0 = a_tile[0u * (R / 4u) + 0u];
        let t1 = a_tile[1u * (R / 4u) + 0u];
        let t2 = a_tile[2u * (R / 4u) + 0u];
        let t3 = a_tile[3u * (R / 4u) + 0u];
        c0_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c0_0))));
        if (RN > 1u) { c0_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c0_1)))); }
        if (RN > 2u) { c0_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c0_2)))); }
        if (RN > 3u) { c0_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c0_3)))); }
        if (RN > 4u) { c0_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c0_4)))); }
        if (RN > 5u) { c0_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c0_5)))); }
        if (RN > 6u) { c0_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c0_6)))); }
        if (RN > 7u) { c0_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c0_7)))); }
        if (R > 1u) { c1_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c1_0)))); }
        if (R > 1u && RN > 1u) { c1_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c1_1)))); }
        if (R > 1u && RN > 2u) { c1_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c1_2)))); }
        if (R > 1u && RN > 3u) { c1_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c1_3)))); }
        if (R > 1u && RN > 4u) { c1_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c1_4)))); }
        if (R > 1u && RN > 5u) { c1_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c1_5)))); }
        if (R > 1u && RN > 6u) { c1_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c1_6)))); }
        if (R > 1u && RN > 7u) { c1_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c1_7)))); }
        if (R > 2u) { c2_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c2_0)))); }
        if (R > 2u && RN > 1u) { c2_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c2_1)))); }
        if (R > 2u && RN > 2u) { c2_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c2_2)))); }
        if (R > 2u && RN > 3u) { c2_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c2_3)))); }
        if (R > 2u && RN > 4u) { c2_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c2_4)))); }
        if (R > 2u && RN > 5u) { c2_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c2_5)))); }
        if (R > 2u && RN > 6u) { c2_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c2_6)))); }
        if (R > 2u && RN > 7u) { c2_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c2_7)))); }
        if (R > 3u) { c3_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c3_0)))); }
        if (R > 3u && RN > 1u) { c3_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c3_1)))); }
        if (R > 3u && RN > 2u) { c3_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c3_2)))); }
        if (R > 3u && RN > 3u) { c3_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c3_3)))); }
        if (R > 3u && RN > 4u) { c3_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c3_4)))); }
        if (R > 3u && RN > 5u) { c3_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c3_5)))); }
        if (R > 3u && RN > 6u) { c3_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c3_6)))); }
        if (R > 3u && RN > 7u) { c3_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c3_7)))); }
      }
      if (R > 4u) {
        let t0 = a_tile[0u * (R / 4u) + 1u];
        let t1 = a_tile[1u * (R / 4u) + 1u];
        let t2 = a_tile[2u * (R / 4u) + 1u];
        let t3 = a_tile[3u * (R / 4u) + 1u];
        if (R > 4u) { c4_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c4_0)))); }
        if (R > 4u && RN > 1u) { c4_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c4_1)))); }
        if (R > 4u && RN > 2u) { c4_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c4_2)))); }
        if (R > 4u && RN > 3u) { c4_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c4_3)))); }
        if (R > 4u && RN > 4u) { c4_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c4_4)))); }
        if (R > 4u && RN > 5u) { c4_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c4_5)))); }
        if (R > 4u && RN > 6u) { c4_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c4_6)))); }
        if (R > 4u && RN > 7u) { c4_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c4_7)))); }
        if (R > 5u) { c5_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c5_0)))); }
        if (R > 5u && RN > 1u) { c5_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c5_1)))); }
        if (R > 5u && RN > 2u) { c5_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c5_2)))); }
        if (R > 5u && RN > 3u) { c5_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c5_3)))); }
        if (R > 5u && RN > 4u) { c5_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c5_4)))); }
        if (R > 5u && RN > 5u) { c5_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c5_5)))); }
        if (R > 5u && RN > 6u) { c5_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c5_6)))); }
        if (R > 5u && RN > 7u) { c5_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c5_7)))); }
        if (R > 6u) { c6_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c6_0)))); }
        if (R > 6u && RN > 1u) { c6_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c6_1)))); }
        if (R > 6u && RN > 2u) { c6_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c6_2)))); }
        if (R > 6u && RN > 3u) { c6_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c6_3)))); }
        if (R > 6u && RN > 4u) { c6_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c6_4)))); }
        if (R > 6u && RN > 5u) { c6_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c6_5)))); }
        if (R > 6u && RN > 6u) { c6_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c6_6)))); }
        if (R > 6u && RN > 7u) { c6_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c6_7)))); }
        if (R > 7u) { c7_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c7_0)))); }
        if (R > 7u && RN > 1u) { c7_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c7_1)))); }
        if (R > 7u && RN > 2u) { c7_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c7_2)))); }
        if (R > 7u && RN > 3u) { c7_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c7_3)))); }
        if (R > 7u && RN > 4u) { c7_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c7_4)))); }
        if (R > 7u && RN > 5u) { c7_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c7_5)))); }
        if (R > 7u && RN > 6u) { c7_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c7_6)))); }
        if (R > 7u && RN > 7u) { c7_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c7_7)))); }
      }
      if (R > 8u) {
        let t0 = a_tile[0u * (R / 4u) + 2u];
        let t1 = a_tile[1u * (R / 4u) + 2u];
        let t2 = a_tile[2u * (R / 4u) + 2u];
        let t3 = a_tile[3u * (R / 4u) + 2u];
        if (R > 8u) { c8_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c8_0)))); }
        if (R > 8u && RN > 1u) { c8_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c8_1)))); }
        if (R > 8u && RN > 2u) { c8_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c8_2)))); }
        if (R > 8u && RN > 3u) { c8_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c8_3)))); }
        if (R > 8u && RN > 4u) { c8_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c8_4)))); }
        if (R > 8u && RN > 5u) { c8_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c8_5)))); }
        if (R > 8u && RN > 6u) { c8_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c8_6)))); }
        if (R > 8u && RN > 7u) { c8_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c8_7)))); }
        if (R > 9u) { c9_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c9_0)))); }
        if (R > 9u && RN > 1u) { c9_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c9_1)))); }
        if (R > 9u && RN > 2u) { c9_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c9_2)))); }
        if (R > 9u && RN > 3u) { c9_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c9_3)))); }
        if (R > 9u && RN > 4u) { c9_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c9_4)))); }
        if (R > 9u && RN > 5u) { c9_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c9_5)))); }
        if (R > 9u && RN > 6u) { c9_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c9_6)))); }
        if (R > 9u && RN > 7u) { c9_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c9_7)))); }
        if (R > 10u) { c10_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c10_0)))); }
        if (R > 10u && RN > 1u) { c10_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c10_1)))); }
        if (R > 10u && RN > 2u) { c10_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c10_2)))); }
        if (R > 10u && RN > 3u) { c10_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c10_3)))); }
        if (R > 10u && RN > 4u) { c10_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c10_4)))); }
        if (R > 10u && RN > 5u) { c10_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c10_5)))); }
        if (R > 10u && RN > 6u) { c10_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c10_6)))); }
        if (R > 10u && RN > 7u) { c10_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c10_7)))); }
        if (R > 11u) { c11_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c11_0)))); }
        if (R > 11u && RN > 1u) { c11_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c11_1)))); }
        if (R > 11u && RN > 2u) { c11_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c11_2)))); }
        if (R > 11u && RN > 3u) { c11_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c11_3)))); }
        if (R > 11u && RN > 4u) { c11_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c11_4)))); }
        if (R > 11u && RN > 5u) { c11_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c11_5)))); }
        if (R > 11u && RN > 6u) { c11_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c11_6)))); }
        if (R > 11u && RN > 7u) { c11_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c11_7)))); }
      }
      if (R > 12u) {
        let t0 = a_tile[0u * (R / 4u) + 3u];
        let t1 = a_tile[1u * (R / 4u) + 3u];
        let t2 = a_tile[2u * (R / 4u) + 3u];
        let t3 = a_tile[3u * (R / 4u) + 3u];
        if (R > 12u) { c12_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c12_0)))); }
        if (R > 12u && RN > 1u) { c12_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c12_1)))); }
        if (R > 12u && RN > 2u) { c12_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c12_2)))); }
        if (R > 12u && RN > 3u) { c12_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c12_3)))); }
        if (R > 12u && RN > 4u) { c12_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c12_4)))); }
        if (R > 12u && RN > 5u) { c12_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c12_5)))); }
        if (R > 12u && RN > 6u) { c12_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c12_6)))); }
        if (R > 12u && RN > 7u) { c12_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c12_7)))); }
        if (R > 13u) { c13_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c13_0)))); }
        if (R > 13u && RN > 1u) { c13_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c13_1)))); }
        if (R > 13u && RN > 2u) { c13_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c13_2)))); }
        if (R > 13u && RN > 3u) { c13_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c13_3)))); }
        if (R > 13u && RN > 4u) { c13_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c13_4)))); }
        if (R > 13u && RN > 5u) { c13_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c13_5)))); }
        if (R > 13u && RN > 6u) { c13_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c13_6)))); }
        if (R > 13u && RN > 7u) { c13_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c13_7)))); }
        if (R > 14u) { c14_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c14_0)))); }
        if (R > 14u && RN > 1u) { c14_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c14_1)))); }
        if (R > 14u && RN > 2u) { c14_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c14_2)))); }
        if (R > 14u && RN > 3u) { c14_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c14_3)))); }
        if (R > 14u && RN > 4u) { c14_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c14_4)))); }
        if (R > 14u && RN > 5u) { c14_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c14_5)))); }
        if (R > 14u && RN > 6u) { c14_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c14_6)))); }
        if (R > 14u && RN > 7u) { c14_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c14_7)))); }
        if (R > 15u) { c15_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c15_0)))); }
        if (R > 15u && RN > 1u) { c15_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c15_1)))); }
        if (R > 15u && RN > 2u) { c15_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c15_2)))); }
        if (R > 15u && RN > 3u) { c15_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c15_3)))); }
        if (R > 15u && RN > 4u) { c15_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c15_4)))); }
        if (R > 15u && RN > 5u) { c15_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c15_5)))); }
        if (R > 15u && RN > 6u) { c15_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c15_6)))); }
        if (R > 15u && RN > 7u) { c15_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c15_7)))); }
      }
      if (R > 16u) {
        let t0 = a_tile[0u * (R / 4u) + 4u];
        let t1 = a_tile[1u * (R / 4u) + 4u];
        let t2 = a_tile[2u * (R / 4u) + 4u];
        let t3 = a_tile[3u * (R / 4u) + 4u];
        if (R > 16u) { c16_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c16_0)))); }
        if (R > 16u && RN > 1u) { c16_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c16_1)))); }
        if (R > 16u && RN > 2u) { c16_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c16_2)))); }
        if (R > 16u && RN > 3u) { c16_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c16_3)))); }
        if (R > 16u && RN > 4u) { c16_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c16_4)))); }
        if (R > 16u && RN > 5u) { c16_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c16_5)))); }
        if (R > 16u && RN > 6u) { c16_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c16_6)))); }
        if (R > 16u && RN > 7u) { c16_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c16_7)))); }
        if (R > 17u) { c17_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c17_0)))); }
        if (R > 17u && RN > 1u) { c17_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c17_1)))); }
        if (R > 17u && RN > 2u) { c17_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c17_2)))); }
        if (R > 17u && RN > 3u) { c17_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c17_3)))); }
        if (R > 17u && RN > 4u) { c17_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c17_4)))); }
        if (R > 17u && RN > 5u) { c17_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c17_5)))); }
        if (R > 17u && RN > 6u) { c17_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c17_6)))); }
        if (R > 17u && RN > 7u) { c17_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c17_7)))); }
        if (R > 18u) { c18_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c18_0)))); }
        if (R > 18u && RN > 1u) { c18_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c18_1)))); }
        if (R > 18u && RN > 2u) { c18_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c18_2)))); }
        if (R > 18u && RN > 3u) { c18_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c18_3)))); }
        if (R > 18u && RN > 4u) { c18_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c18_4)))); }
        if (R > 18u && RN > 5u) { c18_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c18_5)))); }
        if (R > 18u && RN > 6u) { c18_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c18_6)))); }
        if (R > 18u && RN > 7u) { c18_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c18_7)))); }
        if (R > 19u) { c19_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c19_0)))); }
        if (R > 19u && RN > 1u) { c19_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c19_1)))); }
        if (R > 19u && RN > 2u) { c19_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c19_2)))); }
        if (R > 19u && RN > 3u) { c19_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c19_3)))); }
        if (R > 19u && RN > 4u) { c19_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c19_4)))); }
        if (R > 19u && RN > 5u) { c19_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c19_5)))); }
        if (R > 19u && RN > 6u) { c19_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c19_6)))); }
        if (R > 19u && RN > 7u) { c19_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c19_7)))); }
      }
      if (R > 20u) {
        let t0 = a_tile[0u * (R / 4u) + 5u];
        let t1 = a_tile[1u * (R / 4u) + 5u];
        let t2 = a_tile[2u * (R / 4u) + 5u];
        let t3 = a_tile[3u * (R / 4u) + 5u];
        if (R > 20u) { c20_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c20_0)))); }
        if (R > 20u && RN > 1u) { c20_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c20_1)))); }
        if (R > 20u && RN > 2u) { c20_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c20_2)))); }
        if (R > 20u && RN > 3u) { c20_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c20_3)))); }
        if (R > 20u && RN > 4u) { c20_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c20_4)))); }
        if (R > 20u && RN > 5u) { c20_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c20_5)))); }
        if (R > 20u && RN > 6u) { c20_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c20_6)))); }
        if (R > 20u && RN > 7u) { c20_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c20_7)))); }
        if (R > 21u) { c21_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c21_0)))); }
        if (R > 21u && RN > 1u) { c21_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c21_1)))); }
        if (R > 21u && RN > 2u) { c21_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c21_2)))); }
        if (R > 21u && RN > 3u) { c21_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c21_3)))); }
        if (R > 21u && RN > 4u) { c21_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c21_4)))); }
        if (R > 21u && RN > 5u) { c21_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c21_5)))); }
        if (R > 21u && RN > 6u) { c21_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c21_6)))); }
        if (R > 21u && RN > 7u) { c21_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c21_7)))); }
        if (R > 22u) { c22_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c22_0)))); }
        if (R > 22u && RN > 1u) { c22_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c22_1)))); }
        if (R > 22u && RN > 2u) { c22_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c22_2)))); }
        if (R > 22u && RN > 3u) { c22_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c22_3)))); }
        if (R > 22u && RN > 4u) { c22_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c22_4)))); }
        if (R > 22u && RN > 5u) { c22_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c22_5)))); }
        if (R > 22u && RN > 6u) { c22_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c22_6)))); }
        if (R > 22u && RN > 7u) { c22_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c22_7)))); }
        if (R > 23u) { c23_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c23_0)))); }
        if (R > 23u && RN > 1u) { c23_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c23_1)))); }
        if (R > 23u && RN > 2u) { c23_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c23_2)))); }
        if (R > 23u && RN > 3u) { c23_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c23_3)))); }
        if (R > 23u && RN > 4u) { c23_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c23_4)))); }
        if (R > 23u && RN > 5u) { c23_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c23_5)))); }
        if (R > 23u && RN > 6u) { c23_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c23_6)))); }
        if (R > 23u && RN > 7u) { c23_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c23_7)))); }
      }
      if (R > 24u) {
        let t0 = a_tile[0u * (R / 4u) + 6u];
        let t1 = a_tile[1u * (R / 4u) + 6u];
        let t2 = a_tile[2u * (R / 4u) + 6u];
        let t3 = a_tile[3u * (R / 4u) + 6u];
        if (R > 24u) { c24_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c24_0)))); }
        if (R > 24u && RN > 1u) { c24_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c24_1)))); }
        if (R > 24u && RN > 2u) { c24_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c24_2)))); }
        if (R > 24u && RN > 3u) { c24_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c24_3)))); }
        if (R > 24u && RN > 4u) { c24_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c24_4)))); }
        if (R > 24u && RN > 5u) { c24_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c24_5)))); }
        if (R > 24u && RN > 6u) { c24_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c24_6)))); }
        if (R > 24u && RN > 7u) { c24_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c24_7)))); }
        if (R > 25u) { c25_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c25_0)))); }
        if (R > 25u && RN > 1u) { c25_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c25_1)))); }
        if (R > 25u && RN > 2u) { c25_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c25_2)))); }
        if (R > 25u && RN > 3u) { c25_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c25_3)))); }
        if (R > 25u && RN > 4u) { c25_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c25_4)))); }
        if (R > 25u && RN > 5u) { c25_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c25_5)))); }
        if (R > 25u && RN > 6u) { c25_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c25_6)))); }
        if (R > 25u && RN > 7u) { c25_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c25_7)))); }
        if (R > 26u) { c26_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c26_0)))); }
        if (R > 26u && RN > 1u) { c26_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c26_1)))); }
        if (R > 26u && RN > 2u) { c26_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c26_2)))); }
        if (R > 26u && RN > 3u) { c26_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c26_3)))); }
        if (R > 26u && RN > 4u) { c26_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c26_4)))); }
        if (R > 26u && RN > 5u) { c26_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c26_5)))); }
        if (R > 26u && RN > 6u) { c26_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c26_6)))); }
        if (R > 26u && RN > 7u) { c26_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c26_7)))); }
        if (R > 27u) { c27_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c27_0)))); }
        if (R > 27u && RN > 1u) { c27_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c27_1)))); }
        if (R > 27u && RN > 2u) { c27_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c27_2)))); }
        if (R > 27u && RN > 3u) { c27_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c27_3)))); }
        if (R > 27u && RN > 4u) { c27_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c27_4)))); }
        if (R > 27u && RN > 5u) { c27_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c27_5)))); }
        if (R > 27u && RN > 6u) { c27_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c27_6)))); }
        if (R > 27u && RN > 7u) { c27_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c27_7)))); }
      }
      if (R > 28u) {
        let t0 = a_tile[0u * (R / 4u) + 7u];
        let t1 = a_tile[1u * (R / 4u) + 7u];
        let t2 = a_tile[2u * (R / 4u) + 7u];
        let t3 = a_tile[3u * (R / 4u) + 7u];
        if (R > 28u) { c28_0 = fma(vec4f(t3[0]), b0[3], fma(vec4f(t2[0]), b0[2], fma(vec4f(t1[0]), b0[1], fma(vec4f(t0[0]), b0[0], c28_0)))); }
        if (R > 28u && RN > 1u) { c28_1 = fma(vec4f(t3[0]), b1[3], fma(vec4f(t2[0]), b1[2], fma(vec4f(t1[0]), b1[1], fma(vec4f(t0[0]), b1[0], c28_1)))); }
        if (R > 28u && RN > 2u) { c28_2 = fma(vec4f(t3[0]), b2[3], fma(vec4f(t2[0]), b2[2], fma(vec4f(t1[0]), b2[1], fma(vec4f(t0[0]), b2[0], c28_2)))); }
        if (R > 28u && RN > 3u) { c28_3 = fma(vec4f(t3[0]), b3[3], fma(vec4f(t2[0]), b3[2], fma(vec4f(t1[0]), b3[1], fma(vec4f(t0[0]), b3[0], c28_3)))); }
        if (R > 28u && RN > 4u) { c28_4 = fma(vec4f(t3[0]), b4[3], fma(vec4f(t2[0]), b4[2], fma(vec4f(t1[0]), b4[1], fma(vec4f(t0[0]), b4[0], c28_4)))); }
        if (R > 28u && RN > 5u) { c28_5 = fma(vec4f(t3[0]), b5[3], fma(vec4f(t2[0]), b5[2], fma(vec4f(t1[0]), b5[1], fma(vec4f(t0[0]), b5[0], c28_5)))); }
        if (R > 28u && RN > 6u) { c28_6 = fma(vec4f(t3[0]), b6[3], fma(vec4f(t2[0]), b6[2], fma(vec4f(t1[0]), b6[1], fma(vec4f(t0[0]), b6[0], c28_6)))); }
        if (R > 28u && RN > 7u) { c28_7 = fma(vec4f(t3[0]), b7[3], fma(vec4f(t2[0]), b7[2], fma(vec4f(t1[0]), b7[1], fma(vec4f(t0[0]), b7[0], c28_7)))); }
        if (R > 29u) { c29_0 = fma(vec4f(t3[1]), b0[3], fma(vec4f(t2[1]), b0[2], fma(vec4f(t1[1]), b0[1], fma(vec4f(t0[1]), b0[0], c29_0)))); }
        if (R > 29u && RN > 1u) { c29_1 = fma(vec4f(t3[1]), b1[3], fma(vec4f(t2[1]), b1[2], fma(vec4f(t1[1]), b1[1], fma(vec4f(t0[1]), b1[0], c29_1)))); }
        if (R > 29u && RN > 2u) { c29_2 = fma(vec4f(t3[1]), b2[3], fma(vec4f(t2[1]), b2[2], fma(vec4f(t1[1]), b2[1], fma(vec4f(t0[1]), b2[0], c29_2)))); }
        if (R > 29u && RN > 3u) { c29_3 = fma(vec4f(t3[1]), b3[3], fma(vec4f(t2[1]), b3[2], fma(vec4f(t1[1]), b3[1], fma(vec4f(t0[1]), b3[0], c29_3)))); }
        if (R > 29u && RN > 4u) { c29_4 = fma(vec4f(t3[1]), b4[3], fma(vec4f(t2[1]), b4[2], fma(vec4f(t1[1]), b4[1], fma(vec4f(t0[1]), b4[0], c29_4)))); }
        if (R > 29u && RN > 5u) { c29_5 = fma(vec4f(t3[1]), b5[3], fma(vec4f(t2[1]), b5[2], fma(vec4f(t1[1]), b5[1], fma(vec4f(t0[1]), b5[0], c29_5)))); }
        if (R > 29u && RN > 6u) { c29_6 = fma(vec4f(t3[1]), b6[3], fma(vec4f(t2[1]), b6[2], fma(vec4f(t1[1]), b6[1], fma(vec4f(t0[1]), b6[0], c29_6)))); }
        if (R > 29u && RN > 7u) { c29_7 = fma(vec4f(t3[1]), b7[3], fma(vec4f(t2[1]), b7[2], fma(vec4f(t1[1]), b7[1], fma(vec4f(t0[1]), b7[0], c29_7)))); }
        if (R > 30u) { c30_0 = fma(vec4f(t3[2]), b0[3], fma(vec4f(t2[2]), b0[2], fma(vec4f(t1[2]), b0[1], fma(vec4f(t0[2]), b0[0], c30_0)))); }
        if (R > 30u && RN > 1u) { c30_1 = fma(vec4f(t3[2]), b1[3], fma(vec4f(t2[2]), b1[2], fma(vec4f(t1[2]), b1[1], fma(vec4f(t0[2]), b1[0], c30_1)))); }
        if (R > 30u && RN > 2u) { c30_2 = fma(vec4f(t3[2]), b2[3], fma(vec4f(t2[2]), b2[2], fma(vec4f(t1[2]), b2[1], fma(vec4f(t0[2]), b2[0], c30_2)))); }
        if (R > 30u && RN > 3u) { c30_3 = fma(vec4f(t3[2]), b3[3], fma(vec4f(t2[2]), b3[2], fma(vec4f(t1[2]), b3[1], fma(vec4f(t0[2]), b3[0], c30_3)))); }
        if (R > 30u && RN > 4u) { c30_4 = fma(vec4f(t3[2]), b4[3], fma(vec4f(t2[2]), b4[2], fma(vec4f(t1[2]), b4[1], fma(vec4f(t0[2]), b4[0], c30_4)))); }
        if (R > 30u && RN > 5u) { c30_5 = fma(vec4f(t3[2]), b5[3], fma(vec4f(t2[2]), b5[2], fma(vec4f(t1[2]), b5[1], fma(vec4f(t0[2]), b5[0], c30_5)))); }
        if (R > 30u && RN > 6u) { c30_6 = fma(vec4f(t3[2]), b6[3], fma(vec4f(t2[2]), b6[2], fma(vec4f(t1[2]), b6[1], fma(vec4f(t0[2]), b6[0], c30_6)))); }
        if (R > 30u && RN > 7u) { c30_7 = fma(vec4f(t3[2]), b7[3], fma(vec4f(t2[2]), b7[2], fma(vec4f(t1[2]), b7[1], fma(vec4f(t0[2]), b7[0], c30_7)))); }
        if (R > 31u) { c31_0 = fma(vec4f(t3[3]), b0[3], fma(vec4f(t2[3]), b0[2], fma(vec4f(t1[3]), b0[1], fma(vec4f(t0[3]), b0[0], c31_0)))); }
        if (R > 31u && RN > 1u) { c31_1 = fma(vec4f(t3[3]), b1[3], fma(vec4f(t2[3]), b1[2], fma(vec4f(t1[3]), b1[1], fma(vec4f(t0[3]), b1[0], c31_1)))); }
        if (R > 31u && RN > 2u) { c31_2 = fma(vec4f(t3[3]), b2[3], fma(vec4f(t2[3]), b2[2], fma(vec4f(t1[3]), b2[1], fma(vec4f(t0[3]), b2[0], c31_2)))); }
        if (R > 31u && RN > 3u) { c31_3 = fma(vec4f(t3[3]), b3[3], fma(vec4f(t2[3]), b3[2], fma(vec4f(t1[3]), b3[1], fma(vec4f(t0[3]), b3[0], c31_3)))); }
        if (R > 31u && RN > 4u) { c31_4 = fma(vec4f(t3[3]), b4[3], fma(vec4f(t2[3]), b4[2], fma(vec4f(t1[3]), b4[1], fma(vec4f(t0[3]), b4[0], c31_4)))); }
        if (R > 31u && RN > 5u) { c31_5 = fma(vec4f(t3[3]), b5[3], fma(vec4f(t2[3]), b5[2], fma(vec4f(t1[3]), b5[1], fma(vec4f(t0[3]), b5[0], c31_5)))); }
        if (R > 31u && RN > 6u) { c31_6 = fma(vec4f(t3[3]), b6[3], fma(vec4f(t2[3]), b6[2], fma(vec4f(t1[3]), b6[1], fma(vec4f(t0[3]), b6[0], c31_6)))); }
        if (R > 31u && RN > 7u) { c31_7 = fma(vec4f(t3[3]), b7[3], fma(vec4f(t2[3]), b7[2], fma(vec4f(t1[3]), b7[1], fma(vec4f(t0[3]), b7[0], c31_7)))); }
      }
    } else {
      {
        let t = a_tile[0u];
        c0_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c0_0))));
        if (RN > 1u) { c0_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c0_1)))); }
        if (RN > 2u) { c0_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c0_2)))); }
        if (RN > 3u) { c0_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c0_3)))); }
        if (RN > 4u) { c0_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c0_4)))); }
        if (RN > 5u) { c0_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c0_5)))); }
        if (RN > 6u) { c0_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c0_6)))); }
        if (RN > 7u) { c0_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c0_7)))); }
      }
      if (R > 1u) {
        let t = a_tile[1u];
        if (R > 1u) { c1_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c1_0)))); }
        if (R > 1u && RN > 1u) { c1_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c1_1)))); }
        if (R > 1u && RN > 2u) { c1_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c1_2)))); }
        if (R > 1u && RN > 3u) { c1_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c1_3)))); }
        if (R > 1u && RN > 4u) { c1_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c1_4)))); }
        if (R > 1u && RN > 5u) { c1_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c1_5)))); }
        if (R > 1u && RN > 6u) { c1_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c1_6)))); }
        if (R > 1u && RN > 7u) { c1_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c1_7)))); }
      }
      if (R > 2u) {
        let t = a_tile[2u];
        if (R > 2u) { c2_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c2_0)))); }
        if (R > 2u && RN > 1u) { c2_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c2_1)))); }
        if (R > 2u && RN > 2u) { c2_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c2_2)))); }
        if (R > 2u && RN > 3u) { c2_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c2_3)))); }
        if (R > 2u && RN > 4u) { c2_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c2_4)))); }
        if (R > 2u && RN > 5u) { c2_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c2_5)))); }
        if (R > 2u && RN > 6u) { c2_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c2_6)))); }
        if (R > 2u && RN > 7u) { c2_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c2_7)))); }
      }
      if (R > 3u) {
        let t = a_tile[3u];
        if (R > 3u) { c3_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c3_0)))); }
        if (R > 3u && RN > 1u) { c3_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c3_1)))); }
        if (R > 3u && RN > 2u) { c3_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c3_2)))); }
        if (R > 3u && RN > 3u) { c3_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c3_3)))); }
        if (R > 3u && RN > 4u) { c3_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c3_4)))); }
        if (R > 3u && RN > 5u) { c3_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c3_5)))); }
        if (R > 3u && RN > 6u) { c3_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c3_6)))); }
        if (R > 3u && RN > 7u) { c3_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c3_7)))); }
      }
      if (R > 4u) {
        let t = a_tile[4u];
        if (R > 4u) { c4_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c4_0)))); }
        if (R > 4u && RN > 1u) { c4_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c4_1)))); }
        if (R > 4u && RN > 2u) { c4_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c4_2)))); }
        if (R > 4u && RN > 3u) { c4_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c4_3)))); }
        if (R > 4u && RN > 4u) { c4_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c4_4)))); }
        if (R > 4u && RN > 5u) { c4_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c4_5)))); }
        if (R > 4u && RN > 6u) { c4_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c4_6)))); }
        if (R > 4u && RN > 7u) { c4_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c4_7)))); }
      }
      if (R > 5u) {
        let t = a_tile[5u];
        if (R > 5u) { c5_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c5_0)))); }
        if (R > 5u && RN > 1u) { c5_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c5_1)))); }
        if (R > 5u && RN > 2u) { c5_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c5_2)))); }
        if (R > 5u && RN > 3u) { c5_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c5_3)))); }
        if (R > 5u && RN > 4u) { c5_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c5_4)))); }
        if (R > 5u && RN > 5u) { c5_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c5_5)))); }
        if (R > 5u && RN > 6u) { c5_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c5_6)))); }
        if (R > 5u && RN > 7u) { c5_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c5_7)))); }
      }
      if (R > 6u) {
        let t = a_tile[6u];
        if (R > 6u) { c6_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c6_0)))); }
        if (R > 6u && RN > 1u) { c6_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c6_1)))); }
        if (R > 6u && RN > 2u) { c6_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c6_2)))); }
        if (R > 6u && RN > 3u) { c6_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c6_3)))); }
        if (R > 6u && RN > 4u) { c6_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c6_4)))); }
        if (R > 6u && RN > 5u) { c6_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c6_5)))); }
        if (R > 6u && RN > 6u) { c6_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c6_6)))); }
        if (R > 6u && RN > 7u) { c6_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c6_7)))); }
      }
      if (R > 7u) {
        let t = a_tile[7u];
        if (R > 7u) { c7_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c7_0)))); }
        if (R > 7u && RN > 1u) { c7_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c7_1)))); }
        if (R > 7u && RN > 2u) { c7_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c7_2)))); }
        if (R > 7u && RN > 3u) { c7_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c7_3)))); }
        if (R > 7u && RN > 4u) { c7_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c7_4)))); }
        if (R > 7u && RN > 5u) { c7_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c7_5)))); }
        if (R > 7u && RN > 6u) { c7_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c7_6)))); }
        if (R > 7u && RN > 7u) { c7_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c7_7)))); }
      }
      if (R > 8u) {
        let t = a_tile[8u];
        if (R > 8u) { c8_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c8_0)))); }
        if (R > 8u && RN > 1u) { c8_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c8_1)))); }
        if (R > 8u && RN > 2u) { c8_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c8_2)))); }
        if (R > 8u && RN > 3u) { c8_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c8_3)))); }
        if (R > 8u && RN > 4u) { c8_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c8_4)))); }
        if (R > 8u && RN > 5u) { c8_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c8_5)))); }
        if (R > 8u && RN > 6u) { c8_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c8_6)))); }
        if (R > 8u && RN > 7u) { c8_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c8_7)))); }
      }
      if (R > 9u) {
        let t = a_tile[9u];
        if (R > 9u) { c9_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c9_0)))); }
        if (R > 9u && RN > 1u) { c9_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c9_1)))); }
        if (R > 9u && RN > 2u) { c9_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c9_2)))); }
        if (R > 9u && RN > 3u) { c9_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c9_3)))); }
        if (R > 9u && RN > 4u) { c9_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c9_4)))); }
        if (R > 9u && RN > 5u) { c9_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c9_5)))); }
        if (R > 9u && RN > 6u) { c9_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c9_6)))); }
        if (R > 9u && RN > 7u) { c9_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c9_7)))); }
      }
      if (R > 10u) {
        let t = a_tile[10u];
        if (R > 10u) { c10_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c10_0)))); }
        if (R > 10u && RN > 1u) { c10_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c10_1)))); }
        if (R > 10u && RN > 2u) { c10_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c10_2)))); }
        if (R > 10u && RN > 3u) { c10_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c10_3)))); }
        if (R > 10u && RN > 4u) { c10_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c10_4)))); }
        if (R > 10u && RN > 5u) { c10_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c10_5)))); }
        if (R > 10u && RN > 6u) { c10_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c10_6)))); }
        if (R > 10u && RN > 7u) { c10_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c10_7)))); }
      }
      if (R > 11u) {
        let t = a_tile[11u];
        if (R > 11u) { c11_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c11_0)))); }
        if (R > 11u && RN > 1u) { c11_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c11_1)))); }
        if (R > 11u && RN > 2u) { c11_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c11_2)))); }
        if (R > 11u && RN > 3u) { c11_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c11_3)))); }
        if (R > 11u && RN > 4u) { c11_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c11_4)))); }
        if (R > 11u && RN > 5u) { c11_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c11_5)))); }
        if (R > 11u && RN > 6u) { c11_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c11_6)))); }
        if (R > 11u && RN > 7u) { c11_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c11_7)))); }
      }
      if (R > 12u) {
        let t = a_tile[12u];
        if (R > 12u) { c12_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c12_0)))); }
        if (R > 12u && RN > 1u) { c12_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c12_1)))); }
        if (R > 12u && RN > 2u) { c12_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c12_2)))); }
        if (R > 12u && RN > 3u) { c12_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c12_3)))); }
        if (R > 12u && RN > 4u) { c12_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c12_4)))); }
        if (R > 12u && RN > 5u) { c12_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c12_5)))); }
        if (R > 12u && RN > 6u) { c12_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c12_6)))); }
        if (R > 12u && RN > 7u) { c12_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c12_7)))); }
      }
      if (R > 13u) {
        let t = a_tile[13u];
        if (R > 13u) { c13_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c13_0)))); }
        if (R > 13u && RN > 1u) { c13_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c13_1)))); }
        if (R > 13u && RN > 2u) { c13_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c13_2)))); }
        if (R > 13u && RN > 3u) { c13_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c13_3)))); }
        if (R > 13u && RN > 4u) { c13_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c13_4)))); }
        if (R > 13u && RN > 5u) { c13_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c13_5)))); }
        if (R > 13u && RN > 6u) { c13_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c13_6)))); }
        if (R > 13u && RN > 7u) { c13_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c13_7)))); }
      }
      if (R > 14u) {
        let t = a_tile[14u];
        if (R > 14u) { c14_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c14_0)))); }
        if (R > 14u && RN > 1u) { c14_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c14_1)))); }
        if (R > 14u && RN > 2u) { c14_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c14_2)))); }
        if (R > 14u && RN > 3u) { c14_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c14_3)))); }
        if (R > 14u && RN > 4u) { c14_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c14_4)))); }
        if (R > 14u && RN > 5u) { c14_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c14_5)))); }
        if (R > 14u && RN > 6u) { c14_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c14_6)))); }
        if (R > 14u && RN > 7u) { c14_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c14_7)))); }
      }
      if (R > 15u) {
        let t = a_tile[15u];
        if (R > 15u) { c15_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c15_0)))); }
        if (R > 15u && RN > 1u) { c15_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c15_1)))); }
        if (R > 15u && RN > 2u) { c15_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c15_2)))); }
        if (R > 15u && RN > 3u) { c15_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c15_3)))); }
        if (R > 15u && RN > 4u) { c15_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c15_4)))); }
        if (R > 15u && RN > 5u) { c15_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c15_5)))); }
        if (R > 15u && RN > 6u) { c15_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c15_6)))); }
        if (R > 15u && RN > 7u) { c15_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c15_7)))); }
      }
      if (R > 16u) {
        let t = a_tile[16u];
        if (R > 16u) { c16_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c16_0)))); }
        if (R > 16u && RN > 1u) { c16_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c16_1)))); }
        if (R > 16u && RN > 2u) { c16_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c16_2)))); }
        if (R > 16u && RN > 3u) { c16_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c16_3)))); }
        if (R > 16u && RN > 4u) { c16_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c16_4)))); }
        if (R > 16u && RN > 5u) { c16_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c16_5)))); }
        if (R > 16u && RN > 6u) { c16_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c16_6)))); }
        if (R > 16u && RN > 7u) { c16_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c16_7)))); }
      }
      if (R > 17u) {
        let t = a_tile[17u];
        if (R > 17u) { c17_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c17_0)))); }
        if (R > 17u && RN > 1u) { c17_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c17_1)))); }
        if (R > 17u && RN > 2u) { c17_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c17_2)))); }
        if (R > 17u && RN > 3u) { c17_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c17_3)))); }
        if (R > 17u && RN > 4u) { c17_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c17_4)))); }
        if (R > 17u && RN > 5u) { c17_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c17_5)))); }
        if (R > 17u && RN > 6u) { c17_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c17_6)))); }
        if (R > 17u && RN > 7u) { c17_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c17_7)))); }
      }
      if (R > 18u) {
        let t = a_tile[18u];
        if (R > 18u) { c18_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c18_0)))); }
        if (R > 18u && RN > 1u) { c18_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c18_1)))); }
        if (R > 18u && RN > 2u) { c18_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c18_2)))); }
        if (R > 18u && RN > 3u) { c18_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c18_3)))); }
        if (R > 18u && RN > 4u) { c18_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c18_4)))); }
        if (R > 18u && RN > 5u) { c18_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c18_5)))); }
        if (R > 18u && RN > 6u) { c18_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c18_6)))); }
        if (R > 18u && RN > 7u) { c18_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c18_7)))); }
      }
      if (R > 19u) {
        let t = a_tile[19u];
        if (R > 19u) { c19_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c19_0)))); }
        if (R > 19u && RN > 1u) { c19_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c19_1)))); }
        if (R > 19u && RN > 2u) { c19_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c19_2)))); }
        if (R > 19u && RN > 3u) { c19_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c19_3)))); }
        if (R > 19u && RN > 4u) { c19_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c19_4)))); }
        if (R > 19u && RN > 5u) { c19_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c19_5)))); }
        if (R > 19u && RN > 6u) { c19_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c19_6)))); }
        if (R > 19u && RN > 7u) { c19_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c19_7)))); }
      }
      if (R > 20u) {
        let t = a_tile[20u];
        if (R > 20u) { c20_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c20_0)))); }
        if (R > 20u && RN > 1u) { c20_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c20_1)))); }
        if (R > 20u && RN > 2u) { c20_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c20_2)))); }
        if (R > 20u && RN > 3u) { c20_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c20_3)))); }
        if (R > 20u && RN > 4u) { c20_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c20_4)))); }
        if (R > 20u && RN > 5u) { c20_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c20_5)))); }
        if (R > 20u && RN > 6u) { c20_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c20_6)))); }
        if (R > 20u && RN > 7u) { c20_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c20_7)))); }
      }
      if (R > 21u) {
        let t = a_tile[21u];
        if (R > 21u) { c21_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c21_0)))); }
        if (R > 21u && RN > 1u) { c21_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c21_1)))); }
        if (R > 21u && RN > 2u) { c21_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c21_2)))); }
        if (R > 21u && RN > 3u) { c21_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c21_3)))); }
        if (R > 21u && RN > 4u) { c21_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c21_4)))); }
        if (R > 21u && RN > 5u) { c21_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c21_5)))); }
        if (R > 21u && RN > 6u) { c21_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c21_6)))); }
        if (R > 21u && RN > 7u) { c21_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c21_7)))); }
      }
      if (R > 22u) {
        let t = a_tile[22u];
        if (R > 22u) { c22_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c22_0)))); }
        if (R > 22u && RN > 1u) { c22_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c22_1)))); }
        if (R > 22u && RN > 2u) { c22_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c22_2)))); }
        if (R > 22u && RN > 3u) { c22_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c22_3)))); }
        if (R > 22u && RN > 4u) { c22_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c22_4)))); }
        if (R > 22u && RN > 5u) { c22_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c22_5)))); }
        if (R > 22u && RN > 6u) { c22_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c22_6)))); }
        if (R > 22u && RN > 7u) { c22_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c22_7)))); }
      }
      if (R > 23u) {
        let t = a_tile[23u];
        if (R > 23u) { c23_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c23_0)))); }
        if (R > 23u && RN > 1u) { c23_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c23_1)))); }
        if (R > 23u && RN > 2u) { c23_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c23_2)))); }
        if (R > 23u && RN > 3u) { c23_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c23_3)))); }
        if (R > 23u && RN > 4u) { c23_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c23_4)))); }
        if (R > 23u && RN > 5u) { c23_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c23_5)))); }
        if (R > 23u && RN > 6u) { c23_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c23_6)))); }
        if (R > 23u && RN > 7u) { c23_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c23_7)))); }
      }
      if (R > 24u) {
        let t = a_tile[24u];
        if (R > 24u) { c24_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c24_0)))); }
        if (R > 24u && RN > 1u) { c24_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c24_1)))); }
        if (R > 24u && RN > 2u) { c24_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c24_2)))); }
        if (R > 24u && RN > 3u) { c24_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c24_3)))); }
        if (R > 24u && RN > 4u) { c24_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c24_4)))); }
        if (R > 24u && RN > 5u) { c24_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c24_5)))); }
        if (R > 24u && RN > 6u) { c24_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c24_6)))); }
        if (R > 24u && RN > 7u) { c24_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c24_7)))); }
      }
      if (R > 25u) {
        let t = a_tile[25u];
        if (R > 25u) { c25_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c25_0)))); }
        if (R > 25u && RN > 1u) { c25_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c25_1)))); }
        if (R > 25u && RN > 2u) { c25_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c25_2)))); }
        if (R > 25u && RN > 3u) { c25_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c25_3)))); }
        if (R > 25u && RN > 4u) { c25_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c25_4)))); }
        if (R > 25u && RN > 5u) { c25_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c25_5)))); }
        if (R > 25u && RN > 6u) { c25_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c25_6)))); }
        if (R > 25u && RN > 7u) { c25_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c25_7)))); }
      }
      if (R > 26u) {
        let t = a_tile[26u];
        if (R > 26u) { c26_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c26_0)))); }
        if (R > 26u && RN > 1u) { c26_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c26_1)))); }
        if (R > 26u && RN > 2u) { c26_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c26_2)))); }
        if (R > 26u && RN > 3u) { c26_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c26_3)))); }
        if (R > 26u && RN > 4u) { c26_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c26_4)))); }
        if (R > 26u && RN > 5u) { c26_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c26_5)))); }
        if (R > 26u && RN > 6u) { c26_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c26_6)))); }
        if (R > 26u && RN > 7u) { c26_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c26_7)))); }
      }
      if (R > 27u) {
        let t = a_tile[27u];
        if (R > 27u) { c27_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c27_0)))); }
        if (R > 27u && RN > 1u) { c27_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c27_1)))); }
        if (R > 27u && RN > 2u) { c27_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c27_2)))); }
        if (R > 27u && RN > 3u) { c27_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c27_3)))); }
        if (R > 27u && RN > 4u) { c27_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c27_4)))); }
        if (R > 27u && RN > 5u) { c27_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c27_5)))); }
        if (R > 27u && RN > 6u) { c27_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c27_6)))); }
        if (R > 27u && RN > 7u) { c27_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c27_7)))); }
      }
      if (R > 28u) {
        let t = a_tile[28u];
        if (R > 28u) { c28_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c28_0)))); }
        if (R > 28u && RN > 1u) { c28_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c28_1)))); }
        if (R > 28u && RN > 2u) { c28_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c28_2)))); }
        if (R > 28u && RN > 3u) { c28_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c28_3)))); }
        if (R > 28u && RN > 4u) { c28_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c28_4)))); }
        if (R > 28u && RN > 5u) { c28_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c28_5)))); }
        if (R > 28u && RN > 6u) { c28_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c28_6)))); }
        if (R > 28u && RN > 7u) { c28_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c28_7)))); }
      }
      if (R > 29u) {
        let t = a_tile[29u];
        if (R > 29u) { c29_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c29_0)))); }
        if (R > 29u && RN > 1u) { c29_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c29_1)))); }
        if (R > 29u && RN > 2u) { c29_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c29_2)))); }
        if (R > 29u && RN > 3u) { c29_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c29_3)))); }
        if (R > 29u && RN > 4u) { c29_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c29_4)))); }
        if (R > 29u && RN > 5u) { c29_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c29_5)))); }
        if (R > 29u && RN > 6u) { c29_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c29_6)))); }
        if (R > 29u && RN > 7u) { c29_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c29_7)))); }
      }
      if (R > 30u) {
        let t = a_tile[30u];
        if (R > 30u) { c30_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c30_0)))); }
        if (R > 30u && RN > 1u) { c30_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c30_1)))); }
        if (R > 30u && RN > 2u) { c30_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c30_2)))); }
        if (R > 30u && RN > 3u) { c30_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c30_3)))); }
        if (R > 30u && RN > 4u) { c30_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c30_4)))); }
        if (R > 30u && RN > 5u) { c30_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c30_5)))); }
        if (R > 30u && RN > 6u) { c30_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c30_6)))); }
        if (R > 30u && RN > 7u) { c30_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c30_7)))); }
      }
      if (R > 31u) {
        let t = a_tile[31u];
        if (R > 31u) { c31_0 = fma(vec4f(t[3]), b0[3], fma(vec4f(t[2]), b0[2], fma(vec4f(t[1]), b0[1], fma(vec4f(t[0]), b0[0], c31_0)))); }
        if (R > 31u && RN > 1u) { c31_1 = fma(vec4f(t[3]), b1[3], fma(vec4f(t[2]), b1[2], fma(vec4f(t[1]), b1[1], fma(vec4f(t[0]), b1[0], c31_1)))); }
        if (R > 31u && RN > 2u) { c31_2 = fma(vec4f(t[3]), b2[3], fma(vec4f(t[2]), b2[2], fma(vec4f(t[1]), b2[1], fma(vec4f(t[0]), b2[0], c31_2)))); }
        if (R > 31u && RN > 3u) { c31_3 = fma(vec4f(t[3]), b3[3], fma(vec4f(t[2]), b3[2], fma(vec4f(t[1]), b3[1], fma(vec4f(t[0]), b3[0], c31_3)))); }
        if (R > 31u && RN > 4u) { c31_4 = fma(vec4f(t[3]), b4[3], fma(vec4f(t[2]), b4[2], fma(vec4f(t[1]), b4[1], fma(vec4f(t[0]), b4[0], c31_4)))); }
        if (R > 31u && RN > 5u) { c31_5 = fma(vec4f(t[3]), b5[3], fma(vec4f(t[2]), b5[2], fma(vec4f(t[1]), b5[1], fma(vec4f(t[0]), b5[0], c31_5)))); }
        if (R > 31u && RN > 6u) { c31_6 = fma(vec4f(t[3]), b6[3], fma(vec4f(t[2]), b6[2], fma(vec4f(t[1]), b6[1], fma(vec4f(t[0]), b6[0], c31_6)))); }
        if (R > 31u && RN > 7u) { c31_7 = fma(vec4f(t[3]), b7[3], fma(vec4f(t[2]), b7[2], fma(vec4f(t[1]), b7[1], fma(vec4f(t[0]), b7[0], c31_7)))); }
      }
    }
  }
  let add0 = bias_at(col0 + 0u * W);
  let add1 = bias_at(col0 + 4u * W);
  let add2 = bias_at(col0 + 8u * W);
  let add3 = bias_at(col0 + 12u * W);
  let add4 = bias_at(col0 + 16u * W);
  let add5 = bias_at(col0 + 20u * W);
  let add6 = bias_at(col0 + 24u * W);
  let add7 = bias_at(col0 + 28u * W);
  for (var q = 0u; q < R / 4u; q++) {
    var m0: mat4x4f;
    var m1: mat4x4f;
    var m2: mat4x4f;
    var m3: mat4x4f;
    var m4: mat4x4f;
    var m5: mat4x4f;
    var m6: mat4x4f;
    var m7: mat4x4f;
    switch q {
      case 0u: {
        m0 = mat4x4f(c0_0, c1_0, c2_0, c3_0);
        m1 = mat4x4f(c0_1, c1_1, c2_1, c3_1);
        m2 = mat4x4f(c0_2, c1_2, c2_2, c3_2);
        m3 = mat4x4f(c0_3, c1_3, c2_3, c3_3);
        m4 = mat4x4f(c0_4, c1_4, c2_4, c3_4);
        m5 = mat4x4f(c0_5, c1_5, c2_5, c3_5);
        m6 = mat4x4f(c0_6, c1_6, c2_6, c3_6);
        m7 = mat4x4f(c0_7, c1_7, c2_7, c3_7);
      }
      case 1u: {
        m0 = mat4x4f(c4_0, c5_0, c6_0, c7_0);
        m1 = mat4x4f(c4_1, c5_1, c6_1, c7_1);
        m2 = mat4x4f(c4_2, c5_2, c6_2, c7_2);
        m3 = mat4x4f(c4_3, c5_3, c6_3, c7_3);
        m4 = mat4x4f(c4_4, c5_4, c6_4, c7_4);
        m5 = mat4x4f(c4_5, c5_5, c6_5, c7_5);
        m6 = mat4x4f(c4_6, c5_6, c6_6, c7_6);
        m7 = mat4x4f(c4_7, c5_7, c6_7, c7_7);
      }
      case 2u: {
        m0 = mat4x4f(c8_0, c9_0, c10_0, c11_0);
        m1 = mat4x4f(c8_1, c9_1, c10_1, c11_1);
        m2 = mat4x4f(c8_2, c9_2, c10_2, c11_2);
        m3 = mat4x4f(c8_3, c9_3, c10_3, c11_3);
        m4 = mat4x4f(c8_4, c9_4, c10_4, c11_4);
        m5 = mat4x4f(c8_5, c9_5, c10_5, c11_5);
        m6 = mat4x4f(c8_6, c9_6, c10_6, c11_6);
        m7 = mat4x4f(c8_7, c9_7, c10_7, c11_7);
      }
      case 3u: {
        m0 = mat4x4f(c12_0, c13_0, c14_0, c15_0);
        m1 = mat4x4f(c12_1, c13_1, c14_1, c15_1);
        m2 = mat4x4f(c12_2, c13_2, c14_2, c15_2);
        m3 = mat4x4f(c12_3, c13_3, c14_3, c15_3);
        m4 = mat4x4f(c12_4, c13_4, c14_4, c15_4);
        m5 = mat4x4f(c12_5, c13_5, c14_5, c15_5);
        m6 = mat4x4f(c12_6, c13_6, c14_6, c15_6);
        m7 = mat4x4f(c12_7, c13_7, c14_7, c15_7);
      }
      case 4u: {
        m0 = mat4x4f(c16_0, c17_0, c18_0, c19_0);
        m1 = mat4x4f(c16_1, c17_1, c18_1, c19_1);
        m2 = mat4x4f(c16_2, c17_2, c18_2, c19_2);
        m3 = mat4x4f(c16_3, c17_3, c18_3, c19_3);
        m4 = mat4x4f(c16_4, c17_4, c18_4, c19_4);
        m5 = mat4x4f(c16_5, c17_5, c18_5, c19_5);
        m6 = mat4x4f(c16_6, c17_6, c18_6, c19_6);
        m7 = mat4x4f(c16_7, c17_7, c18_7, c19_7);
      }
      case 5u: {
        m0 = mat4x4f(c20_0, c21_0, c22_0, c23_0);
        m1 = mat4x4f(c20_1, c21_1, c22_1, c23_1);
        m2 = mat4x4f(c20_2, c21_2, c22_2, c23_2);
        m3 = mat4x4f(c20_3, c21_3, c22_3, c23_3);
        m4 = mat4x4f(c20_4, c21_4, c22_4, c23_4);
        m5 = mat4x4f(c20_5, c21_5, c22_5, c23_5);
        m6 = mat4x4f(c20_6, c21_6, c22_6, c23_6);
        m7 = mat4x4f(c20_7, c21_7, c22_7, c23_7);
      }
      case 6u: {
        m0 = mat4x4f(c24_0, c25_0, c26_0, c27_0);
        m1 = mat4x4f(c24_1, c25_1, c26_1, c27_1);
        m2 = mat4x4f(c24_2, c25_2, c26_2, c27_2);
        m3 = mat4x4f(c24_3, c25_3, c26_3, c27_3);
        m4 = mat4x4f(c24_4, c25_4, c26_4, c27_4);
        m5 = mat4x4f(c24_5, c25_5, c26_5, c27_5);
        m6 = mat4x4f(c24_6, c25_6, c26_6, c27_6);
        m7 = mat4x4f(c24_7, c25_7, c26_7, c27_7);
      }
      case 7u: {
        m0 = mat4x4f(c28_0, c29_0, c30_0, c31_0);
        m1 = mat4x4f(c28_1, c29_1, c30_1, c31_1);
        m2 = mat4x4f(c28_2, c29_2, c30_2, c31_2);
        m3 = mat4x4f(c28_3, c29_3, c30_3, c31_3);
        m4 = mat4x4f(c28_4, c29_4, c30_4, c31_4);
        m5 = mat4x4f(c28_5, c29_5, c30_5, c31_5);
        m6 = mat4x4f(c28_6, c29_6, c30_6, c31_6);
        m7 = mat4x4f(c28_7, c29_7, c30_7, c31_7);
      }
      default: {}
    }
    store(m0, row0 + 4u * q, col0 + 0u * W, z, add0);
    if (RN > 1u) { store(m1, row0 + 4u * q, col0 + 4u * W, z, add1); }
    if (RN > 2u) { store(m2, row0 + 4u * q, col0 + 8u * W, z, add2); }
    if (RN > 3u) { store(m3, row0 + 4u * q, col0 + 12u * W, z, add3); }
    if (RN > 4u) { store(m4, row0 + 4u * q, col0 + 16u * W, z, add4); }
    if (RN > 5u) { store(m5, row0 + 4u * q, col0 + 20u * W, z, add5); }
    if (RN > 6u) { store(m6, row0 + 4u * q, col0 + 24u * W, z, add6); }
    if (RN > 7u) { store(m7, row0 + 4u * q, col0 + 28u * W, z, add7); }
  }
}
