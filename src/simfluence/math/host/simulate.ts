// CPU port of shaders/simfluence_simulate.wgsl: an autoregressive Simfluence rollout of one chunk
// of steps for several runs, L̂_t = (1 + Σ_{(i,c)∈c_t} c·A[i, z])·L̂_{t-1} + Σ c·B[i, z]. Layout
// (sP = 4·s4 padded test examples, fastest axis): plan u32 — runStart[runs] at 0, runSteps[runs]
// at `runs`, stepPtr[total steps + 1] at steps_base, (index, count) pairs from entry_base (index
// 0xffffffff or ≥ n: contributes nothing); theta [2, n, sP] (block 0 = A, 1 = B); state [runs, sP]
// (L̂ before step t0 in, after the chunk out); out [runs, k, sP], out[r, j] = L̂_{t0+j+1}, rows past
// a run's last step untouched. The sums over a step's batch run in float64; L̂ is rounded to f32
// after every step, as the kernel keeps it in an f32 register.
import type { HostCall } from "../../../gpu/host/host_kernel.ts";

export function simulate(call: HostCall): void {
  const [n, s4, runs, t0, k, stepsBase, entryBase] = call.u;
  const plan = call.buffers[0].u32;
  const theta = call.buffers[1].f32;
  const state = call.buffers[2].f32;
  const out = call.buffers[3].f32;
  const sP = 4 * s4;
  const blockB = n * sP;
  const a = new Float64Array(sP);
  const b = new Float64Array(sP);
  const l = new Float32Array(sP);
  for (let run = 0; run < runs; run++) {
    const start = plan[run];
    const steps = plan[runs + run];
    const at = run * sP;
    l.set(state.subarray(at, at + sP));
    const stop = Math.min(t0 + k, steps);
    for (let t = t0; t < stop; t++) {
      const step = stepsBase + start + t;
      a.fill(0);
      b.fill(0);
      const end = plan[step + 1];
      for (let e = plan[step]; e < end; e++) {
        const ep = entryBase + 2 * e;
        const i = plan[ep];
        if (i >= n) continue;
        const c = plan[ep + 1];
        const ka = i * sP;
        const kb = blockB + ka;
        for (let z = 0; z < sP; z++) {
          a[z] += c * theta[ka + z];
          b[z] += c * theta[kb + z];
        }
      }
      for (let z = 0; z < sP; z++) l[z] = (1 + a[z]) * l[z] + b[z];
      out.set(l, (run * k + (t - t0)) * sP);
    }
    state.set(l, at);
  }
}
