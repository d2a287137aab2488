// WebAssembly SIMD sparse products for the CPU ports of the Simfluence solver's rows and cols
// shaders (../solver_rows.ts, ../solver_cols.ts): the module in solver_wasm.ts (generated from
// solver.wat by src/gpu/host/wasm/build.ts) is instantiated once, synchronously, and owns one
// linear memory, grown as needed. Its layout: two cache slots for the design's u32 structure (slot
// 0 the CSR the rows kernel reads, slot 1 the CSC of the cols kernel), then a work area for the
// call's vectors. A slot holds the last HostBuffer copied into it (held weakly) and is reused while
// the same buffer comes back: the solver makes its CSR and CSC buffers once per solver and never
// writes them again, so only the vectors are copied per call (in, the kernel, out). The module
// computes what the WGSL computes, in f32 (f32x4 for a vec4), where the scalar ports sum in
// float64: the two agree to f32 rounding, not bit for bit. Where WebAssembly SIMD is unavailable
// (instantiation throws), or the memory cannot hold a call's data, these functions return false and
// the ports run their scalar loops.
import type { HostBuffer } from "../../../../gpu/host/host_buffer.ts";
import { SOLVER_WASM_BASE64 } from "./solver_wasm.ts";
import { instantiateWasm } from "../../../../gpu/host/wasm/instantiate.ts";

/** The ports use the module from this many lane·entry products on (nnz·mP). */
export const SOLVER_WASM_MIN = 1 << 14;

const PAGE = 65536;
/** Kept below 2 GiB so every byte address is a non-negative i32. */
const MAX_BYTES = 2 ** 31 - PAGE;

interface SolverExports {
  memory: WebAssembly.Memory;
  solver_rows(
    csr: number,
    base: number,
    rows: number,
    v: number,
    bb: number,
    lprev: number,
    u: number,
    mP: number,
    ranges: number,
    nr: number,
    sa: number,
    sb: number,
  ): void;
  solver_cols(
    csc: number,
    base: number,
    n: number,
    perChunk: number,
    groups: number,
    lprev: number,
    u: number,
    p: number,
    q: number,
    bb: number,
    partial: number,
    mP: number,
    ranges: number,
    nr: number,
    ridge: number,
    maskA: number,
    maskB: number,
    accA: number,
    accB: number,
    pq: number,
  ): void;
}

const wasm = instantiateWasm<SolverExports>(SOLVER_WASM_BASE64);

/** Whether the WebAssembly module runs (false: the scalar ports). */
export const solverWasmAvailable = wasm !== null;

interface Slot {
  buffer: WeakRef<HostBuffer> | null;
  words: number;
  /** Bytes reserved; only grows. */
  cap: number;
}
const slots: [Slot, Slot] = [
  { buffer: null, words: 0, cap: 0 },
  { buffer: null, words: 0, cap: 0 },
];

let f32: Float32Array<ArrayBufferLike> = new Float32Array(0);
let u32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Grows the memory to `bytes` (false if it may not) and refreshes the views. */
function reserve(exports: SolverExports, bytes: number): boolean {
  if (bytes > MAX_BYTES) return false;
  const memory = exports.memory;
  if (memory.buffer.byteLength < bytes) {
    try {
      memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    } catch {
      return false;
    }
  }
  if (f32.buffer !== memory.buffer) {
    f32 = new Float32Array(memory.buffer);
    u32 = new Uint32Array(memory.buffer);
  }
  return true;
}

/** Byte address of `buffer`'s words in cache slot `which`, copied in unless already there. */
function cached(exports: SolverExports, buffer: HostBuffer, which: 0 | 1): number {
  const slot = slots[which];
  const words = buffer.u32.length;
  const at = which === 0 ? 0 : slots[0].cap;
  if (slot.buffer?.deref() === buffer && slot.words === words) return at;
  const bytes = align(words * 4);
  if (bytes > slot.cap) {
    slot.cap = bytes;
    // Slot 1 sits after slot 0: it moves when slot 0 grows.
    if (which === 0) slots[1].buffer = null;
  }
  if (!reserve(exports, slots[0].cap + slots[1].cap)) {
    slot.buffer = null;
    return -1;
  }
  u32.set(buffer.u32, at / 4);
  slot.buffer = new WeakRef(buffer);
  slot.words = words;
  return at;
}

/** Copies `ranges` (lane pairs) to byte `at`. */
function putRanges(at: number, ranges: readonly number[]): void {
  const base = at / 4;
  for (let g = 0; g < ranges.length; g++) u32[base + g] = ranges[g];
}

const covers = (ranges: readonly number[], mP: number) =>
  ranges.length === 2 && ranges[0] === 0 && ranges[1] === mP;

/**
 * The rows kernel (see ../solver_rows.ts) over the live lane `ranges`: u[r, z] for r < rows.
 * `csr` is the dispatch's CSR buffer (cached), lprev [rows, mP], v [2, n, mP], u [rows, mP].
 * Returns false, having done nothing, where the module cannot run it.
 */
export function solverRowsWasm(
  csr: HostBuffer,
  entryBase: number,
  rows: number,
  n: number,
  mP: number,
  lprev: Float32Array,
  v: Float32Array,
  u: Float32Array,
  ranges: readonly number[],
): boolean {
  if (wasm === null) return false;
  const csrAt = cached(wasm, csr, 0);
  if (csrAt < 0) return false;
  const vLen = 2 * n * mP;
  const rowLen = rows * mP;
  const vAt = slots[0].cap + slots[1].cap;
  const lprevAt = vAt + align(vLen * 4);
  const uAt = lprevAt + align(rowLen * 4);
  const saAt = uAt + align(rowLen * 4);
  const sbAt = saAt + align(mP * 4);
  const rangesAt = sbAt + align(mP * 4);
  if (!reserve(wasm, rangesAt + align(ranges.length * 4))) return false;
  f32.set(v.subarray(0, vLen), vAt / 4);
  f32.set(lprev.subarray(0, rowLen), lprevAt / 4);
  if (!covers(ranges, mP)) f32.set(u.subarray(0, rowLen), uAt / 4);
  putRanges(rangesAt, ranges);
  wasm.solver_rows(
    csrAt,
    entryBase,
    rows,
    vAt,
    n * mP * 4,
    lprevAt,
    uAt,
    mP,
    rangesAt,
    ranges.length,
    saAt,
    sbAt,
  );
  u.set(f32.subarray(uAt / 4, uAt / 4 + rowLen), 0);
  return true;
}

/**
 * The cols kernel (see ../solver_cols.ts) over the live lane `ranges` and chunks [0, groups):
 * `csc` is the dispatch's CSC buffer (cached), lprev and u [rows, mP] (their whole arrays are
 * read), p and q [2, n, mP], partial's first groups·mP floats written, ridge[z] the λ added (0
 * without the ridge term), maskA/maskB 0 or 1. Returns false, having done nothing, where the
 * module cannot run it.
 */
export function solverColsWasm(
  csc: HostBuffer,
  entryBase: number,
  n: number,
  mP: number,
  perChunk: number,
  groups: number,
  lprev: Float32Array,
  u: Float32Array,
  p: Float32Array,
  q: Float32Array,
  partial: Float32Array,
  ridge: Float64Array,
  maskA: number,
  maskB: number,
  ranges: readonly number[],
): boolean {
  if (wasm === null) return false;
  const cscAt = cached(wasm, csc, 1);
  if (cscAt < 0) return false;
  const vLen = 2 * n * mP;
  const partLen = groups * mP;
  const lprevAt = slots[0].cap + slots[1].cap;
  const uAt = lprevAt + align(lprev.length * 4);
  const pAt = uAt + align(u.length * 4);
  const qAt = pAt + align(vLen * 4);
  const partialAt = qAt + align(vLen * 4);
  const ridgeAt = partialAt + align(partLen * 4);
  const accAAt = ridgeAt + align(mP * 4);
  const accBAt = accAAt + align(mP * 4);
  const pqAt = accBAt + align(mP * 4);
  const rangesAt = pqAt + align(mP * 4);
  if (!reserve(wasm, rangesAt + align(ranges.length * 4))) return false;
  f32.set(lprev, lprevAt / 4);
  f32.set(u, uAt / 4);
  f32.set(p.subarray(0, vLen), pAt / 4);
  // q is copied in unless every lane of every index is written (all live, all chunks run).
  if (!covers(ranges, mP) || groups * perChunk < n) {
    f32.set(q.subarray(0, vLen), qAt / 4);
    f32.set(partial.subarray(0, partLen), partialAt / 4);
  }
  f32.set(ridge.subarray(0, mP), ridgeAt / 4);
  putRanges(rangesAt, ranges);
  wasm.solver_cols(
    cscAt,
    entryBase,
    n,
    perChunk,
    groups,
    lprevAt,
    uAt,
    pAt,
    qAt,
    n * mP * 4,
    partialAt,
    mP,
    rangesAt,
    ranges.length,
    ridgeAt,
    maskA,
    maskB,
    accAAt,
    accBAt,
    pqAt,
  );
  q.set(f32.subarray(qAt / 4, qAt / 4 + vLen), 0);
  partial.set(f32.subarray(partialAt / 4, partialAt / 4 + partLen), 0);
  return true;
}
