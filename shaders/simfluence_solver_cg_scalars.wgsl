// simfluence_solver_cg_scalars: per-test-example scalar work of the Simfluence ridge CG,
// reducing the chunk partials written by the vector kernels. STAGE picks the step:
//   STAGE 0 (start): rz = Σ r·s, rr = Σ r·r, bb = Σ b·b, active = rr > tol²·bb, iters = 0.
//   STAGE 1 (alpha): α = rz / Σ p·q while active and p·q > 0; otherwise α = 0 and inactive.
//   STAGE 2 (beta):  rz' = Σ r·s, rr = Σ r·r; while active: iters += 1, β = rz'/rz, rz = rz',
//                    converged when rr <= tol²·bb (then β = 0 and inactive); inactive: β = 0.
//   STAGE 3 (final): relres = sqrt(Σ r·r / bb) for the true residual r = b - (XᵀX + λI)x.
// Layouts (m4 = padded test count / 4, 4 test examples per vec4):
//   partial: [3, chunks, m4] vec4;  scal: [SCAL_ROWS, m4] vec4 with rows ROW_LAMBDA, ROW_BB,
//   ROW_RZ, ROW_ALPHA, ROW_BETA, ROW_RR, ROW_ACTIVE, ROW_ITERS, ROW_RELRES.
// Grid: 1-D over m4.

struct Params {
  m4: u32,
  chunks: u32,
  tol_sq: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partial: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> scal: array<vec4f>;

fn reduce(slot: u32, z4: u32) -> vec4f {
  var acc = vec4f(0.0);
  let base = slot * params.chunks * params.m4;
  for (var c = 0u; c < params.chunks; c++) {
    acc += partial[base + c * params.m4 + z4];
  }
  return acc;
}

fn at(row: u32, z4: u32) -> u32 {
  return row * params.m4 + z4;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let z4 = gid.x;
  if (z4 >= params.m4) {
    return;
  }
  let zero = vec4f(0.0);
  let one = vec4f(1.0);
  if (STAGE == 0u) {
    let rr = reduce(1u, z4);
    let bb = reduce(2u, z4);
    scal[at(ROW_RZ, z4)] = reduce(0u, z4);
    scal[at(ROW_RR, z4)] = rr;
    scal[at(ROW_BB, z4)] = bb;
    scal[at(ROW_ACTIVE, z4)] = select(zero, one, rr > params.tol_sq * bb);
    scal[at(ROW_ITERS, z4)] = zero;
  } else if (STAGE == 1u) {
    let pq = reduce(0u, z4);
    let live = scal[at(ROW_ACTIVE, z4)] > zero;
    let ok = live & (pq > zero);
    let safe = select(one, pq, ok);
    scal[at(ROW_ALPHA, z4)] = select(zero, scal[at(ROW_RZ, z4)] / safe, ok);
    scal[at(ROW_ACTIVE, z4)] = select(zero, one, ok);
  } else if (STAGE == 2u) {
    let rz_new = reduce(0u, z4);
    let rr = reduce(1u, z4);
    let live = scal[at(ROW_ACTIVE, z4)] > zero;
    let rz = scal[at(ROW_RZ, z4)];
    let converged = rr <= params.tol_sq * scal[at(ROW_BB, z4)];
    let go_on = live & !converged & (rz > zero);
    scal[at(ROW_ITERS, z4)] += select(zero, one, live);
    scal[at(ROW_BETA, z4)] = select(zero, rz_new / select(one, rz, rz > zero), go_on);
    scal[at(ROW_RZ, z4)] = select(rz, rz_new, live);
    scal[at(ROW_RR, z4)] = select(scal[at(ROW_RR, z4)], rr, live);
    scal[at(ROW_ACTIVE, z4)] = select(zero, one, go_on);
  } else {
    let rr = reduce(1u, z4);
    let bb = scal[at(ROW_BB, z4)];
    scal[at(ROW_RELRES, z4)] = select(zero, sqrt(rr / select(one, bb, bb > zero)), bb > zero);
  }
}
