// CPU port of shaders/gpt2_sample.wgsl: inverse-CDF label sampling from softmax(logits) per row,
// `row_max`, `row_sum`, `pick` (each launched once per column chunk, first = 1 on the first) and
// `finish`. Layouts (elements, from each offset): logits [rows, stride] holding vocabulary columns
// [colStart, colStart + stride), the first `cols` real; draws [rows] (u < 0: row untouched);
// state [rows, 5] = (max, Σ e, running Σ e, label, last column with e > 0), e = exp(logit - max);
// targets [rows] (ids as f32). The sums are kept in f32 (Math.fround) as the GPU keeps them, so
// that row_sum and pick add the same f32 terms in the same order and pick's running sum ends at
// Σ e exactly, and e underflows to 0 where it does in f32.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered } from "../../gpu/host/grid.ts";

const LOWEST = -3.4028234663852886e38;
const STATE = 5;
const fround = Math.fround;

/** The sweeps' common uniform. */
function sweep(call: HostCall) {
  const [logitsBuf, drawsBuf, stateBuf] = call.buffers;
  const [rows, cols, stride, logitsOffset, drawsOffset, stateOffset, colStart, first] = call.u;
  return {
    logits: logitsBuf.f32,
    draws: drawsBuf.f32,
    state: stateBuf.f32,
    rows: covered(call, rows),
    cols,
    stride,
    logitsOffset,
    drawsOffset,
    stateOffset,
    colStart,
    first,
  };
}

/** `row_max`: the max of the real logits, carried over the chunks. */
function rowMax(call: HostCall): void {
  const {
    logits,
    draws,
    state,
    rows,
    cols,
    stride,
    logitsOffset,
    drawsOffset,
    stateOffset,
    first,
  } = sweep(call);
  for (let r = 0; r < rows; r++) {
    if (!(draws[drawsOffset + r] >= 0)) continue;
    const at = stateOffset + STATE * r;
    let m = first === 0 ? state[at] : LOWEST;
    const base = logitsOffset + r * stride, end = base + cols;
    for (let i = base; i < end; i++) if (logits[i] > m) m = logits[i];
    state[at] = m;
  }
}

/** `row_sum`: Σ e over the real columns, in f32, carried over the chunks. */
function rowSum(call: HostCall): void {
  const {
    logits,
    draws,
    state,
    rows,
    cols,
    stride,
    logitsOffset,
    drawsOffset,
    stateOffset,
    first,
  } = sweep(call);
  for (let r = 0; r < rows; r++) {
    if (!(draws[drawsOffset + r] >= 0)) continue;
    const at = stateOffset + STATE * r;
    const m = state[at];
    let s = first === 0 ? state[at + 1] : 0;
    const base = logitsOffset + r * stride, end = base + cols;
    for (let i = base; i < end; i++) s = fround(s + fround(Math.exp(fround(logits[i] - m))));
    state[at + 1] = s;
  }
}

/** `pick`: the first column with e > 0 at which the running Σ e reaches u·Σ e. */
function pick(call: HostCall): void {
  const {
    logits,
    draws,
    state,
    rows,
    cols,
    stride,
    logitsOffset,
    drawsOffset,
    stateOffset,
    colStart,
    first,
  } = sweep(call);
  for (let r = 0; r < rows; r++) {
    const u = draws[drawsOffset + r];
    if (!(u >= 0)) continue;
    const at = stateOffset + STATE * r;
    const m = state[at];
    const threshold = fround(u * state[at + 1]);
    let running = 0, label = -1, last = -1;
    if (first === 0) {
      running = state[at + 2];
      label = state[at + 3];
      last = state[at + 4];
    }
    if (label < 0) {
      const base = logitsOffset + r * stride;
      for (let c = 0; c < cols; c++) {
        const e = fround(Math.exp(fround(logits[base + c] - m)));
        running = fround(running + e);
        if (e > 0) {
          last = colStart + c;
          if (running >= threshold) {
            label = last;
            break;
          }
        }
      }
    }
    state[at + 2] = running;
    state[at + 3] = label;
    state[at + 4] = last;
  }
}

/** `finish`: targets[r] = the label (or the last column with e > 0). */
function finish(call: HostCall): void {
  const [drawsBuf, stateBuf, targetsBuf] = call.buffers;
  const draws = drawsBuf.f32, state = stateBuf.f32, targets = targetsBuf.f32;
  const [rowsAll, drawsOffset, stateOffset, targetsOffset] = call.u;
  const rows = covered(call, rowsAll);
  for (let r = 0; r < rows; r++) {
    if (draws[drawsOffset + r] < 0) continue;
    const at = stateOffset + STATE * r;
    const label = state[at + 3];
    targets[targetsOffset + r] = label >= 0 ? label : state[at + 4];
  }
}

export const sampleKernels = {
  "gpt2_sample#row_max": rowMax,
  "gpt2_sample#row_sum": rowSum,
  "gpt2_sample#pick": pick,
  "gpt2_sample#finish": finish,
} as const;
