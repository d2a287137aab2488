// CPU port of shaders/gpt2_embedding.wgsl: the token + position embedding, `forward`,
// `backward_tokens` and `backward_positions`, over one block of wte's rows at a time. Layouts
// (elements, from each offset): tokens [N] (ids as f32, row r = b·T + t); the block holds wte
// rows [rowStart, rowEnd) as [rowEnd - rowStart, d] (possibly the same buffer as wpe); wpe [P, d];
// x, dx [N, d]; groups = [ids (U) | starts (U + 1) | rows (N)] as f32 (the CPU's counting sort of
// the tokens by id); dwte (the block's gradient) and dwpe [P, d] are accumulated into.
import type { HostCall } from "../../gpu/host/host_kernel.ts";
import { covered, u32OfF32 } from "../../gpu/host/grid.ts";

let scratch = new Float64Array(256);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, 2 * scratch.length));
  return scratch;
}

/** `forward`: x[r, c] = (first ? wpe[r mod T, c] : x[r, c]) + (id in block ? wte[id, c] : 0). */
function forward(call: HostCall): void {
  const [tokensBuf, wteBuf, wpeBuf, xBuf] = call.buffers;
  const tokens = tokensBuf.f32, wte = wteBuf.f32, wpe = wpeBuf.f32, x = xBuf.f32;
  const [n, T, d, tokensOffset, wteOffset, wpeOffset, outOffset, rowStart, rowEnd, first] = call.u;
  const total = covered(call, n);
  const rows = Math.ceil(total / d);
  for (let r = 0; r < rows; r++) {
    const cols = Math.min(d, total - r * d);
    const id = u32OfF32(tokens[tokensOffset + r]);
    const out = outOffset + r * d;
    if (first !== 0) {
      const pos = wpeOffset + (r % T) * d;
      if (id >= rowStart && id < rowEnd) {
        const tok = wteOffset + (id - rowStart) * d;
        for (let c = 0; c < cols; c++) x[out + c] = wte[tok + c] + wpe[pos + c];
      } else {
        for (let c = 0; c < cols; c++) x[out + c] = wpe[pos + c];
      }
    } else if (id >= rowStart && id < rowEnd) {
      const tok = wteOffset + (id - rowStart) * d;
      for (let c = 0; c < cols; c++) x[out + c] += wte[tok + c];
    }
  }
}

/** `backward_tokens`: dwte[ids[u] - rowStart] += Σ over the group's rows of dx, u in [u0, u1). */
function backwardTokens(call: HostCall): void {
  const [groupsBuf, dxBuf, dwteBuf] = call.buffers;
  const groups = groupsBuf.f32, dx = dxBuf.f32, dwte = dwteBuf.f32;
  const [U, u0, u1, d, groupsOffset, dxOffset, dwteOffset, rowStart] = call.u;
  const total = covered(call, Math.max(0, u1 - u0) * d);
  const starts = groupsOffset + U;
  const rowsAt = starts + U + 1;
  const acc = scratchOf(d);
  const count = Math.ceil(total / d);
  for (let k = 0; k < count; k++) {
    const u = u0 + k;
    const cols = Math.min(d, total - k * d);
    const id = u32OfF32(groups[groupsOffset + u]);
    const begin = u32OfF32(groups[starts + u]);
    const end = u32OfF32(groups[starts + u + 1]);
    acc.fill(0, 0, cols);
    for (let j = begin; j < end; j++) {
      const src = dxOffset + u32OfF32(groups[rowsAt + j]) * d;
      for (let c = 0; c < cols; c++) acc[c] += dx[src + c];
    }
    const out = dwteOffset + (id - rowStart) * d;
    for (let c = 0; c < cols; c++) dwte[out + c] += acc[c];
  }
}

/** `backward_positions`: dwpe[t, c] += Σ_b dx[b·T + t, c]. */
function backwardPositions(call: HostCall): void {
  const [dxBuf, dwpeBuf] = call.buffers;
  const dx = dxBuf.f32, dwpe = dwpeBuf.f32;
  const [B, T, d, dxOffset, dwpeOffset] = call.u;
  const total = covered(call, T * d);
  const acc = scratchOf(d);
  const count = Math.ceil(total / d);
  for (let t = 0; t < count; t++) {
    const cols = Math.min(d, total - t * d);
    acc.fill(0, 0, cols);
    for (let b = 0; b < B; b++) {
      const src = dxOffset + (b * T + t) * d;
      for (let c = 0; c < cols; c++) acc[c] += dx[src + c];
    }
    const out = dwpeOffset + t * d;
    for (let c = 0; c < cols; c++) dwpe[out + c] += acc[c];
  }
}

export const embeddingKernels = {
  "gpt2_embedding#forward": forward,
  "gpt2_embedding#backward_tokens": backwardTokens,
  "gpt2_embedding#backward_positions": backwardPositions,
} as const;
