// simfluence_simulate: autoregressive Simfluence rollout of a chunk of steps for several runs:
//   L̂_t = (1 + Σ_{(i,c)∈c_t} c·A[i, z]) · L̂_{t-1} + Σ_{(i,c)∈c_t} c·B[i, z].
// Entries with index 0xffffffff are ids outside the study and contribute nothing.
// Layouts (s4 = padded test count / 4, test examples fastest, 4 per vec4):
//   plan: u32, runStart[runs] (first global step of each run) at 0, runSteps[runs] at `runs`,
//     stepPtr[total steps + 1] at steps_base, then (index, count) pairs from entry_base.
//   theta: [2, n, s4] vec4 (block 0 = A, 1 = B);  state: [runs, s4] vec4, L̂ before step t0 on
//   entry and after the chunk on exit;  out: [runs, k, s4] vec4, out[r, j] = L̂_{t0+j+1} (rows
//   past a run's last step are left untouched).
// Grid: x over s4 in workgroups of WG, y over runs.

struct Params {
  n: u32,
  s4: u32,
  runs: u32,
  t0: u32,
  k: u32,
  steps_base: u32,
  entry_base: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> plan: array<u32>;
@group(0) @binding(2) var<storage, read> theta: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> state: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let z4 = gid.x;
  let run = gid.y;
  if (z4 >= params.s4 || run >= params.runs) {
    return;
  }
  let s4 = params.s4;
  let block_b = params.n * s4;
  let start = plan[run];
  let steps = plan[params.runs + run];
  var l = state[run * s4 + z4];
  let stop = min(params.t0 + params.k, steps);
  for (var t = params.t0; t < stop; t++) {
    let step = params.steps_base + start + t;
    var a = vec4f(0.0);
    var b = vec4f(0.0);
    let end = plan[step + 1u];
    for (var e = plan[step]; e < end; e++) {
      let at = params.entry_base + 2u * e;
      let i = plan[at];
      if (i < params.n) {
        let c = f32(plan[at + 1u]);
        let k = i * s4 + z4;
        a += c * theta[k];
        b += c * theta[block_b + k];
      }
    }
    l = (1.0 + a) * l + b;
    out[(run * params.k + (t - params.t0)) * s4 + z4] = l;
  }
  state[run * s4 + z4] = l;
}
