// influence_precondition: the damped inverse of a diagonal (in the eigenbasis) Fisher applied to
// a batch of gradient matrices.
// Layout: g      [rows, size] row-major from gOffset (rows: queries or sequences; each row a
//                gradient matrix flattened, EK-FAC/KFAC: in the eigenbasis Q_Sᵀ·G·Q_A);
//         lambda [size] from lambdaOffset: the eigenvalues Λ (or the diagonal Fisher);
//         out    [rows, size] row-major from outOffset (may not alias g).
// out[r, i] = g[r, i] / (lambda[i] + damping).
// Grid: 1-D over rows·size, folded into x/y.

struct Params {
  rows: u32,
  size: u32,
  gOffset: u32,
  lambdaOffset: u32,
  outOffset: u32,
  damping: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> lambda: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn divide(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * WG;
  if (i >= params.rows * params.size) {
    return;
  }
  let k = i % params.size;
  out[params.outOffset + i] = g[params.gOffset + i] /
    (lambda[params.lambdaOffset + k] + params.damping);
}
