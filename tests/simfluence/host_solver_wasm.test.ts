// The CPU backend's WebAssembly SIMD solver products (src/simfluence/math/host/wasm/), run through
// the rows and cols ports, against the WGSL's f32 arithmetic emulated here with Math.fround, bit
// for bit, on odd shapes (small n, few padded lanes, empty rows and columns, repeated counts,
// inactive lane groups, partial chunk grids); against the ports' float64 scalar loops to f32
// rounding; its design cache across calls; and that the committed solver_wasm.ts is what
// `deno task gen:wasm` writes.
import assert from "node:assert/strict";
import { HostBuffer } from "../../src/gpu/host/host_buffer.ts";
import type { HostCall } from "../../src/gpu/host/host_kernel.ts";
import { solverRowsUsing } from "../../src/simfluence/math/host/solver_rows.ts";
import { solverColsUsing } from "../../src/simfluence/math/host/solver_cols.ts";
import { liveRanges } from "../../src/simfluence/math/host/solver_common.ts";
import { solverWasmAvailable } from "../../src/simfluence/math/host/wasm/solver.ts";
import { SOLVER_WASM_BASE64 } from "../../src/simfluence/math/host/wasm/solver_wasm.ts";
import { assertGeneratedWasmCurrent } from "../helpers/wasm.ts";

const ROW_ACTIVE = 6;
const SCAL_ROWS = 9;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function f32Buffer(values: Float32Array): HostBuffer {
  const b = new HostBuffer(values.length * 4);
  b.f32.set(values);
  return b;
}

function u32Buffer(values: Uint32Array): HostBuffer {
  const b = new HostBuffer(values.length * 4);
  b.u32.set(values);
  return b;
}

function random(len: number, next: () => number, lo = -2, hi = 2): Float32Array {
  return Float32Array.from({ length: len }, () => lo + (hi - lo) * next());
}

/** A random design: CSR by rows and the matching CSC, some rows and indices empty. */
function design(rows: number, n: number, next: () => number) {
  const entries: [number, number, number][] = []; // row, index, count
  for (let r = 0; r < rows; r++) {
    const k = r % 5 === 3 ? 0 : Math.floor(next() * 11); // empty rows; up to 10 entries
    const used = new Set<number>();
    for (let j = 0; j < k && used.size < n; j++) {
      const i = Math.floor(next() * n);
      if (used.has(i) || i === n - 1) continue; // index n - 1 never used: an empty column
      used.add(i);
      entries.push([r, i, 1 + Math.floor(next() * 3)]);
    }
  }
  const pack = (outer: number, key: 0 | 1, inner: 0 | 1) => {
    const sorted = [...entries].sort((a, b) => a[key] - b[key] || a[inner] - b[inner]);
    const out = new Uint32Array(outer + 1 + 2 * sorted.length);
    for (const e of sorted) out[e[key] + 1]++;
    for (let o = 0; o < outer; o++) out[o + 1] += out[o];
    sorted.forEach((e, k) => {
      out[outer + 1 + 2 * k] = e[inner];
      out[outer + 1 + 2 * k + 1] = e[2];
    });
    return out;
  };
  return { csr: pack(rows, 0, 1), csc: pack(n, 1, 0) };
}

/** scal with λ in row 0 and ROW_ACTIVE set on the lane groups `active` says. */
function scalTable(m4: number, next: () => number, active: (z4: number) => boolean) {
  const mP = 4 * m4;
  const scal = new Float32Array(SCAL_ROWS * mP);
  for (let z = 0; z < mP; z++) scal[z] = 0.01 + next();
  for (let z4 = 0; z4 < m4; z4++) {
    if (active(z4)) scal[ROW_ACTIVE * mP + 4 * z4 + Math.floor(next() * 4)] = 1;
  }
  return scal;
}

function assertSame(got: Float32Array, want: Float32Array, label: string) {
  assert.equal(got.length, want.length, label);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.fail(`${label}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

const fr = Math.fround;

/** shaders/simfluence_solver_rows.wgsl in f32, one lane at a time. */
function rowsWgsl(call: HostCall): void {
  const [rows, n, m4, base, skip] = call.u;
  const [csrB, lprevB, vB, scalB, uB] = call.buffers;
  const csr = csrB.u32, lprev = lprevB.f32, v = vB.f32, u = uB.f32;
  const mP = 4 * m4;
  const ranges = liveRanges(scalB.f32, ROW_ACTIVE, m4, skip !== 0);
  for (let g = 0; g < ranges.length; g += 2) {
    for (let z = ranges[g]; z < ranges[g + 1]; z++) {
      for (let r = 0; r < rows; r++) {
        let sa = 0, sb = 0;
        for (let e = csr[r]; e < csr[r + 1]; e++) {
          const c = csr[base + 2 * e + 1], k = csr[base + 2 * e] * mP + z;
          sa = fr(sa + fr(c * v[k]));
          sb = fr(sb + fr(c * v[n * mP + k]));
        }
        u[r * mP + z] = fr(fr(lprev[r * mP + z] * sa) + sb);
      }
    }
  }
}

/** shaders/simfluence_solver_cols.wgsl in f32, one lane at a time. */
function colsWgsl(call: HostCall): void {
  const [n, m4, base, perChunk, chunks, useA, useB, addRidge, skip] = call.u;
  const [cscB, lprevB, uB, pB, scalB, qB, partialB] = call.buffers;
  const csc = cscB.u32, lprev = lprevB.f32, u = uB.f32, p = pB.f32, q = qB.f32;
  const mP = 4 * m4;
  const ranges = liveRanges(scalB.f32, ROW_ACTIVE, m4, skip !== 0);
  const groups = Math.min(chunks, call.workgroups[1]);
  for (let g = 0; g < ranges.length; g += 2) {
    for (let z = ranges[g]; z < ranges[g + 1]; z++) {
      const ridge = addRidge !== 0 ? scalB.f32[z] : 0;
      for (let chunk = 0; chunk < groups; chunk++) {
        let pq = 0;
        for (let i = chunk * perChunk; i < Math.min((chunk + 1) * perChunk, n); i++) {
          let accA = 0, accB = 0;
          for (let e = csc[i]; e < csc[i + 1]; e++) {
            const c = csc[base + 2 * e + 1], k = csc[base + 2 * e] * mP + z;
            const cu = fr(c * u[k]);
            accA = fr(accA + fr(cu * lprev[k]));
            accB = fr(accB + cu);
          }
          const ka = i * mP + z, kb = n * mP + ka;
          const pa = p[ka], pb = p[kb];
          const qa = fr(fr((useA !== 0 ? 1 : 0) * accA) + fr(ridge * pa));
          const qb = fr(fr((useB !== 0 ? 1 : 0) * accB) + fr(ridge * pb));
          q[ka] = qa;
          q[kb] = qb;
          pq = fr(pq + fr(fr(pa * qa) + fr(pb * qb)));
        }
        partialB.f32[chunk * mP + z] = pq;
      }
    }
  }
}

/** |got - want| within a few f32 roundings of the values summed (`scale`). */
function assertClose(got: Float32Array, want: Float32Array, scale: number, label: string) {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= 1e-5 * scale)) assert.fail(`${label}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

interface Shape {
  rows: number;
  n: number;
  m4: number;
  skip: boolean;
}

const SHAPES: Shape[] = [
  { rows: 1, n: 2, m4: 1, skip: false },
  { rows: 7, n: 3, m4: 2, skip: false },
  { rows: 13, n: 5, m4: 3, skip: true },
  { rows: 40, n: 9, m4: 5, skip: true },
  { rows: 64, n: 17, m4: 7, skip: false },
];

Deno.test("the solver's WebAssembly SIMD module instantiates here", () => {
  assert.equal(solverWasmAvailable, true);
});

Deno.test("solver rows: WebAssembly SIMD is the WGSL in f32, bit for bit, and near the float64 port", () => {
  SHAPES.forEach((shape, s) => {
    const { rows, n, m4, skip } = shape;
    const next = rng(11 + s);
    const mP = 4 * m4;
    const { csr } = design(rows, n, next);
    const csrBuf = u32Buffer(csr);
    const lprev = f32Buffer(random(rows * mP, next, 0.5, 3));
    const scal = f32Buffer(scalTable(m4, next, (z4) => !skip || z4 % 3 !== 1));
    const uStart = random(rows * mP, next); // lanes left untouched keep this
    for (let trial = 0; trial < 2; trial++) {
      // Same CSR buffer, new vectors: the cached design is reused.
      const v = f32Buffer(random(2 * n * mP, next));
      const run = (wasmMin: number) => {
        const u = f32Buffer(uStart);
        const call: HostCall = {
          key: { shader: "simfluence_solver_rows" },
          defines: { ROW_ACTIVE },
          overrides: {},
          buffers: [csrBuf, lprev, v, scal, u],
          u: [rows, n, m4, rows + 1, skip ? 1 : 0],
          f: [],
          workgroups: [1, rows, 1],
        };
        if (wasmMin < 0) rowsWgsl(call);
        else solverRowsUsing(call, wasmMin);
        return u.f32;
      };
      const label = `rows ${JSON.stringify(shape)} trial ${trial}`;
      const wasm = run(0);
      assertSame(wasm, run(-1), label);
      assertClose(wasm, run(Infinity), 100, `${label} vs float64`);
    }
  });
});

Deno.test("solver cols: WebAssembly SIMD is the WGSL in f32, bit for bit, and near the float64 port", () => {
  const variants = [
    { useA: 1, useB: 1, ridge: 1 },
    { useA: 1, useB: 0, ridge: 0 },
    { useA: 0, useB: 1, ridge: 1 },
  ];
  SHAPES.forEach((shape, s) => {
    variants.forEach((variant, t) => {
      const { rows, n, m4, skip } = shape;
      const next = rng(101 + 7 * s + t);
      const mP = 4 * m4;
      const { csc } = design(rows, n, next);
      const cscBuf = u32Buffer(csc);
      const perChunk = 1 + (s % 3);
      const chunks = Math.ceil(n / perChunk);
      // A grid short of the chunks on one variant: the rest are left alone.
      const wgY = t === 1 ? Math.max(1, chunks - 1) : chunks;
      const lprev = f32Buffer(random(rows * mP, next, 0.5, 3));
      const uVec = f32Buffer(random(rows * mP, next));
      const scal = f32Buffer(scalTable(m4, next, (z4) => !skip || z4 % 2 === 0));
      const qStart = random(2 * n * mP, next);
      const partialStart = random(3 * chunks * mP, next);
      for (let trial = 0; trial < 2; trial++) {
        const p = f32Buffer(random(2 * n * mP, next));
        const run = (wasmMin: number) => {
          const q = f32Buffer(qStart);
          const partial = f32Buffer(partialStart);
          const call: HostCall = {
            key: { shader: "simfluence_solver_cols" },
            defines: { ROW_ACTIVE },
            overrides: {},
            buffers: [cscBuf, lprev, uVec, p, scal, q, partial],
            u: [
              n,
              m4,
              n + 1,
              perChunk,
              chunks,
              variant.useA,
              variant.useB,
              variant.ridge,
              skip ? 1 : 0,
            ],
            f: [],
            workgroups: [1, wgY, 1],
          };
          if (wasmMin < 0) colsWgsl(call);
          else solverColsUsing(call, wasmMin);
          return [q.f32, partial.f32];
        };
        const [qW, partW] = run(0);
        const [qS, partS] = run(-1);
        const [qD, partD] = run(Infinity);
        const label = `cols ${JSON.stringify({ ...shape, ...variant })} trial ${trial}`;
        assertSame(qW, qS, `${label} q`);
        assertSame(partW, partS, `${label} partial`);
        assertClose(qW, qD, 1000, `${label} q vs float64`);
        assertClose(partW, partD, 1000, `${label} partial vs float64`);
      }
    });
  });
});

Deno.test("solver wasm: a new design buffer replaces the cached one", () => {
  const rows = 12, n = 6, m4 = 2, mP = 8;
  const next = rng(5);
  const lprev = f32Buffer(random(rows * mP, next, 0.5, 3));
  const v = f32Buffer(random(2 * n * mP, next));
  const scal = f32Buffer(scalTable(m4, next, () => true));
  for (let k = 0; k < 3; k++) {
    // Fresh buffers each time, the same length for the first two.
    const { csr } = design(rows, n, next);
    const csrBuf = u32Buffer(k === 2 ? Uint32Array.from([...csr, 0, 0]) : csr);
    const run = (wasmMin: number) => {
      const u = f32Buffer(new Float32Array(rows * mP));
      const call: HostCall = {
        key: { shader: "simfluence_solver_rows" },
        defines: { ROW_ACTIVE },
        overrides: {},
        buffers: [csrBuf, lprev, v, scal, u],
        u: [rows, n, m4, rows + 1, 0],
        f: [],
        workgroups: [1, rows, 1],
      };
      if (wasmMin < 0) rowsWgsl(call);
      else solverRowsUsing(call, wasmMin);
      return u.f32;
    };
    assertSame(run(0), run(-1), `design ${k}`);
  }
});

Deno.test("the committed solver_wasm.ts is what build.ts writes from solver.wat", async () => {
  await assertGeneratedWasmCurrent("solver", SOLVER_WASM_BASE64);
});
