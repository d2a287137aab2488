// matmul_tiled: out = alpha · a·b (+ bias) (+ out) with workgroup-memory tiles and register
// blocking: the shape that suits real GPUs (barriers are cheap, global loads are coalesced).
//
// Layouts (element units; z = batch index), any strides and offsets:
//   a [Z, M, K]: a[z,m,k] = a_buf[a_off + z·a_sb + m·a_sm + k·a_sk]
//   b [Z, K, N]: b[z,k,n] = b_buf[b_off + z·b_sb + k·b_sk + n·b_sn]
//   out [Z, M, N] contiguous rows: out[z,m,n] = out[out_off + z·out_sb + m·N + n]
//   bias [N] from bias_off. flags: bit 0 adds bias, bit 1 accumulates into out.
// A workgroup of (BN / TN) × (BM / TM) invocations computes a BM × BN tile; each invocation a
// TM × TN block. Per step, BK columns of a and BK rows of b are staged in workgroup memory
// (zero-filled outside the matrices). Defines: BM, BN, BK, TM, TN.
// Grid: x over column tiles, y over row tiles, z over the batch.

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

const THREADS_X: u32 = BN / TN;
const THREADS_Y: u32 = BM / TM;
const THREADS: u32 = THREADS_X * THREADS_Y;

var<workgroup> a_tile: array<f32, BK * BM>; // [kk][m]
var<workgroup> b_tile: array<f32, BK * BN>; // [kk][n]

@compute @workgroup_size(THREADS_X, THREADS_Y)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(local_invocation_id) lid: vec3u,
  @builtin(local_invocation_index) lindex: u32,
) {
  let p = params;
  let z = wid.z;
  let tile_m = wid.y * BM;
  let tile_n = wid.x * BN;
  let a_base = p.a_off + z * p.a_sb;
  let b_base = p.b_off + z * p.b_sb;
  var acc: array<f32, TM * TN>;
  var a_reg: array<f32, TM>;
  var b_reg: array<f32, TN>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = lindex; e < BK * BM; e += THREADS) {
      let kk = e / BM;
      let m = tile_m + e % BM;
      let k = k0 + kk;
      var v = 0.0;
      if (m < p.M && k < p.K) {
        v = a_buf[a_base + m * p.a_sm + k * p.a_sk];
      }
      a_tile[e] = v;
    }
    for (var e = lindex; e < BK * BN; e += THREADS) {
      let kk = e / BN;
      let n = tile_n + e % BN;
      let k = k0 + kk;
      var v = 0.0;
      if (n < p.N && k < p.K) {
        v = b_buf[b_base + k * p.b_sk + n * p.b_sn];
      }
      b_tile[e] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      // Invocations interleave rows / columns so that neighbours read neighbouring words.
      for (var i = 0u; i < TM; i++) {
        a_reg[i] = a_tile[kk * BM + lid.y + i * THREADS_Y];
      }
      for (var j = 0u; j < TN; j++) {
        b_reg[j] = b_tile[kk * BN + lid.x + j * THREADS_X];
      }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) {
          acc[i * TN + j] = fma(a_reg[i], b_reg[j], acc[i * TN + j]);
        }
      }
    }
    workgroupBarrier();
  }
  let out_base = p.out_off + z * p.out_sb;
  for (var i = 0u; i < TM; i++) {
    let row = tile_m + lid.y + i * THREADS_Y;
    for (var j = 0u; j < TN; j++) {
      let col = tile_n + lid.x + j * THREADS_X;
      if (row < p.M && col < p.N) {
        var v = p.alpha * acc[i * TN + j];
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
